//! The P4 sources under `p4/`, embedded so the binary and the tests see exactly the committed
//! files (the generator reads event names and header sizes from them).

use crate::p4src::SourceFile;

/// (path relative to `p4/`, contents) of every P4 file, in include order.
pub const FILES: &[(&str, &str)] = &[
    ("include/config.p4", include_str!("../p4/include/config.p4")),
    ("include/types.p4", include_str!("../p4/include/types.p4")),
    (
        "include/headers.p4",
        include_str!("../p4/include/headers.p4"),
    ),
    (
        "parsers/ingress_parser.p4",
        include_str!("../p4/parsers/ingress_parser.p4"),
    ),
    (
        "parsers/egress_parser.p4",
        include_str!("../p4/parsers/egress_parser.p4"),
    ),
    (
        "ingress_controls/header_store.p4",
        include_str!("../p4/ingress_controls/header_store.p4"),
    ),
    (
        "ingress_controls/forwarding.p4",
        include_str!("../p4/ingress_controls/forwarding.p4"),
    ),
    (
        "ingress_controls/qp_state.p4",
        include_str!("../p4/ingress_controls/qp_state.p4"),
    ),
    (
        "ingress_controls/server_state.p4",
        include_str!("../p4/ingress_controls/server_state.p4"),
    ),
    (
        "ingress_controls/registration.p4",
        include_str!("../p4/ingress_controls/registration.p4"),
    ),
    (
        "ingress_controls/payload_split.p4",
        include_str!("../p4/ingress_controls/payload_split.p4"),
    ),
    (
        "ingress_controls/header_return.p4",
        include_str!("../p4/ingress_controls/header_return.p4"),
    ),
    (
        "ingress_controls/reconstruct.p4",
        include_str!("../p4/ingress_controls/reconstruct.p4"),
    ),
    (
        "ingress_controls/ingress_apply.p4",
        include_str!("../p4/ingress_controls/ingress_apply.p4"),
    ),
    (
        "egress_controls/psn.p4",
        include_str!("../p4/egress_controls/psn.p4"),
    ),
    (
        "egress_controls/header_copy.p4",
        include_str!("../p4/egress_controls/header_copy.p4"),
    ),
    (
        "egress_controls/qp_refresh.p4",
        include_str!("../p4/egress_controls/qp_refresh.p4"),
    ),
    (
        "egress_controls/rebuilt.p4",
        include_str!("../p4/egress_controls/rebuilt.p4"),
    ),
    (
        "egress_controls/egress_apply.p4",
        include_str!("../p4/egress_controls/egress_apply.p4"),
    ),
    ("ribosome.p4", include_str!("../p4/ribosome.p4")),
];

/// The committed sources as [`SourceFile`]s.
pub fn committed() -> Vec<SourceFile> {
    FILES
        .iter()
        .map(|(path, text)| SourceFile {
            path: (*path).to_string(),
            text: (*text).to_string(),
        })
        .collect()
}

/// Which pipeline control a file's declarations belong to (`Ingress`, `Egress`), for the
/// bfrt names `pipe.<control>.<name>`; `None` for files outside both.
pub fn control_of(path: &str) -> Option<&'static str> {
    if path.starts_with("ingress_controls/") && path != "ingress_controls/header_store.p4" {
        Some("Ingress")
    } else if path.starts_with("egress_controls/") {
        Some("Egress")
    } else {
        None
    }
}
