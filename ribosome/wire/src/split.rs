//! The split trailer the switch appends to the header copy, and the payload tag it writes in
//! front of the parked payload, in the original Ribosome layouts and a versioned layout that
//! adds a generation number.
//!
//! The generation is one 32-bit split sequence number assigned by the switch per split
//! packet and written into both the trailer (kept with the header) and the tag (kept with the
//! payload). When the READ response comes back, the tag's generation must equal the trailer's:
//! a remote-ring overwrite shows up as a newer generation in the tag, and a reused header slot
//! as a slot whose stored trailer has a different generation. The original layouts cannot tell
//! either case apart and silently attach the wrong payload.

use crate::bytes::{split, u16_at, u32_at, u64_at, u8_at};
use crate::{Result, WireError};

/// Marker of the original 22-byte trailer.
pub const MARKER_ORIGINAL: u32 = 0x5599_1177;
/// Marker of the versioned trailer (distinct, so a parser needs no out-of-band mode).
pub const MARKER_VERSIONED: u32 = 0x5599_1178;
/// Version number carried by the versioned trailer and tag.
pub const VERSION: u8 = 1;
/// First byte of a versioned payload tag; an original tag always starts with 0 (pad < 256).
pub const TAG_VERSIONED_BYTE: u8 = 0x80 | VERSION;

/// The trailer that rides behind the L4 header of the header copy sent to the NF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitTrailer {
    /// Remote virtual address of the parked tag + pad + payload.
    pub remote_va: u64,
    /// READ length: tag + pad + payload.
    pub length: u16,
    /// Switch-side global QP index.
    pub qp_index: u16,
    /// Payload server index.
    pub server_index: u16,
    /// Alignment pad bytes after the tag.
    pub pad_count: u16,
    /// Header-store slot.
    pub header_slot: u16,
    /// Split sequence number; `None` selects the original 22-byte layout.
    pub generation: Option<u32>,
}

impl SplitTrailer {
    /// Length of the original layout.
    pub const ORIGINAL_LEN: usize = 22;
    /// Length of the versioned layout.
    pub const VERSIONED_LEN: usize = 28;

    /// Encoded length of this trailer.
    pub fn len(&self) -> usize {
        match self.generation {
            None => Self::ORIGINAL_LEN,
            Some(_) => Self::VERSIONED_LEN,
        }
    }

    /// Never empty; present for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Appends the trailer.
    ///
    /// Original: marker, VA u64, length, qp, server, pad, slot (all big-endian).
    /// Versioned: marker', version u8, flags u8 (0), slot, VA u64, length, qp, server, pad,
    /// generation u32; the VA sits 8-byte aligned within the trailer.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self.generation {
            None => {
                out.extend_from_slice(&MARKER_ORIGINAL.to_be_bytes());
                out.extend_from_slice(&self.remote_va.to_be_bytes());
                for v in [
                    self.length,
                    self.qp_index,
                    self.server_index,
                    self.pad_count,
                    self.header_slot,
                ] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
            }
            Some(generation) => {
                out.extend_from_slice(&MARKER_VERSIONED.to_be_bytes());
                out.extend_from_slice(&[VERSION, 0]);
                out.extend_from_slice(&self.header_slot.to_be_bytes());
                out.extend_from_slice(&self.remote_va.to_be_bytes());
                for v in [
                    self.length,
                    self.qp_index,
                    self.server_index,
                    self.pad_count,
                ] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
                out.extend_from_slice(&generation.to_be_bytes());
            }
        }
    }

    /// Parses a trailer in either layout, chosen by its marker; returns it and the rest.
    pub fn parse(b: &[u8]) -> Result<(Self, &[u8])> {
        match u32_at(b, 0, "split trailer marker")? {
            MARKER_ORIGINAL => {
                let (t, rest) = split(b, Self::ORIGINAL_LEN, "original split trailer")?;
                Ok((
                    Self {
                        remote_va: u64_at(t, 4, "trailer")?,
                        length: u16_at(t, 12, "trailer")?,
                        qp_index: u16_at(t, 14, "trailer")?,
                        server_index: u16_at(t, 16, "trailer")?,
                        pad_count: u16_at(t, 18, "trailer")?,
                        header_slot: u16_at(t, 20, "trailer")?,
                        generation: None,
                    },
                    rest,
                ))
            }
            MARKER_VERSIONED => {
                let (t, rest) = split(b, Self::VERSIONED_LEN, "versioned split trailer")?;
                let version = u8_at(t, 4, "trailer")?;
                if version != VERSION {
                    return Err(WireError::Unexpected {
                        what: "split trailer version",
                        value: u64::from(version),
                    });
                }
                Ok((
                    Self {
                        header_slot: u16_at(t, 6, "trailer")?,
                        remote_va: u64_at(t, 8, "trailer")?,
                        length: u16_at(t, 16, "trailer")?,
                        qp_index: u16_at(t, 18, "trailer")?,
                        server_index: u16_at(t, 20, "trailer")?,
                        pad_count: u16_at(t, 22, "trailer")?,
                        generation: Some(u32_at(t, 24, "trailer")?),
                    },
                    rest,
                ))
            }
            m => Err(WireError::Unexpected {
                what: "split trailer marker",
                value: u64::from(m),
            }),
        }
    }
}

/// The tag written into remote memory in front of the pad bytes and payload; a READ response
/// starts with it, so responses identify their header slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadTag {
    /// Alignment pad bytes that follow the tag (0..=3).
    pub pad_count: u16,
    /// Header-store slot.
    pub header_slot: u16,
    /// Split sequence number; `None` selects the original 4-byte layout.
    pub generation: Option<u32>,
}

impl PayloadTag {
    /// Length of the original layout: pad u16, slot u16.
    pub const ORIGINAL_LEN: usize = 4;
    /// Length of the versioned layout: 0x81, pad u8, slot u16, generation u32.
    pub const VERSIONED_LEN: usize = 8;

    /// Encoded length of this tag.
    pub fn len(&self) -> usize {
        match self.generation {
            None => Self::ORIGINAL_LEN,
            Some(_) => Self::VERSIONED_LEN,
        }
    }

    /// Never empty; present for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Appends the tag. In the versioned layout the pad count must fit a byte (it is 0..=3).
    pub fn write_to(&self, out: &mut Vec<u8>) -> Result<()> {
        match self.generation {
            None => {
                out.extend_from_slice(&self.pad_count.to_be_bytes());
                out.extend_from_slice(&self.header_slot.to_be_bytes());
            }
            Some(generation) => {
                let pad = u8::try_from(self.pad_count).map_err(|_| WireError::Unexpected {
                    what: "versioned tag pad count",
                    value: u64::from(self.pad_count),
                })?;
                out.extend_from_slice(&[TAG_VERSIONED_BYTE, pad]);
                out.extend_from_slice(&self.header_slot.to_be_bytes());
                out.extend_from_slice(&generation.to_be_bytes());
            }
        }
        Ok(())
    }

    /// Parses a tag in either layout (chosen by its first byte) and skips its pad bytes;
    /// returns the tag and the payload that follows.
    pub fn parse(b: &[u8]) -> Result<(Self, &[u8])> {
        let (tag, rest) = match u8_at(b, 0, "payload tag")? {
            0 => {
                let (t, rest) = split(b, Self::ORIGINAL_LEN, "original payload tag")?;
                (
                    Self {
                        pad_count: u16_at(t, 0, "tag")?,
                        header_slot: u16_at(t, 2, "tag")?,
                        generation: None,
                    },
                    rest,
                )
            }
            TAG_VERSIONED_BYTE => {
                let (t, rest) = split(b, Self::VERSIONED_LEN, "versioned payload tag")?;
                (
                    Self {
                        pad_count: u16::from(u8_at(t, 1, "tag")?),
                        header_slot: u16_at(t, 2, "tag")?,
                        generation: Some(u32_at(t, 4, "tag")?),
                    },
                    rest,
                )
            }
            v => {
                return Err(WireError::Unexpected {
                    what: "payload tag first byte",
                    value: u64::from(v),
                })
            }
        };
        if tag.pad_count > 3 {
            return Err(WireError::Unexpected {
                what: "payload tag pad count",
                value: u64::from(tag.pad_count),
            });
        }
        let (_, payload) = split(rest, usize::from(tag.pad_count), "payload tag padding")?;
        Ok((tag, payload))
    }
}

/// Why a fetched payload does not belong to the header that asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FetchMismatch {
    /// The tag names another header slot.
    #[error("payload tag names header slot {tag}, trailer slot {trailer}")]
    Slot {
        /// Slot in the tag.
        tag: u16,
        /// Slot in the trailer.
        trailer: u16,
    },
    /// Same slot, different generation: the ring overwrote the payload or the slot was reused.
    #[error(
        "generation mismatch: tag {tag}, trailer {trailer} (payload overwritten or slot reused)"
    )]
    Generation {
        /// Generation in the tag.
        tag: u32,
        /// Generation in the trailer.
        trailer: u32,
    },
    /// One side uses the versioned layout and the other does not.
    #[error("trailer and tag layouts differ")]
    Layout,
}

/// Checks that `tag` (from a READ response) matches `trailer` (kept with the header). In the
/// original layouts only the slot can be compared, which is why they lose data silently.
pub fn check_fetch(
    trailer: &SplitTrailer,
    tag: &PayloadTag,
) -> std::result::Result<(), FetchMismatch> {
    if tag.header_slot != trailer.header_slot {
        return Err(FetchMismatch::Slot {
            tag: tag.header_slot,
            trailer: trailer.header_slot,
        });
    }
    match (trailer.generation, tag.generation) {
        (None, None) => Ok(()),
        (Some(t), Some(g)) if t == g => Ok(()),
        (Some(t), Some(g)) => Err(FetchMismatch::Generation { tag: g, trailer: t }),
        _ => Err(FetchMismatch::Layout),
    }
}
