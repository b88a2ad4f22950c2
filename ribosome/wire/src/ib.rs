//! InfiniBand transport headers carried by RoCEv2: BTH (12 B), RETH (16 B), AETH (4 B).

use crate::bytes::{split, u16_at, u24_at, u24_bytes, u32_at, u64_at, u8_at};
use crate::Result;

/// A BTH opcode. Only the reliable-connected (RC) opcodes Ribosome uses have names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Opcode(pub u8);

impl Opcode {
    /// RC SEND Only (not served: Ribosome is one-sided).
    pub const SEND_ONLY: Self = Self(0x04);
    /// RC RDMA WRITE First.
    pub const WRITE_FIRST: Self = Self(0x06);
    /// RC RDMA WRITE Middle.
    pub const WRITE_MIDDLE: Self = Self(0x07);
    /// RC RDMA WRITE Last.
    pub const WRITE_LAST: Self = Self(0x08);
    /// RC RDMA WRITE Only (what the switch sends).
    pub const WRITE_ONLY: Self = Self(0x0A);
    /// RC RDMA READ Request.
    pub const READ_REQUEST: Self = Self(0x0C);
    /// RC RDMA READ Response First.
    pub const READ_RESPONSE_FIRST: Self = Self(0x0D);
    /// RC RDMA READ Response Middle.
    pub const READ_RESPONSE_MIDDLE: Self = Self(0x0E);
    /// RC RDMA READ Response Last.
    pub const READ_RESPONSE_LAST: Self = Self(0x0F);
    /// RC RDMA READ Response Only.
    pub const READ_RESPONSE_ONLY: Self = Self(0x10);
    /// RC Acknowledge.
    pub const ACK: Self = Self(0x11);
    /// The switch's private no-op placeholder.
    pub const RIBOSOME_NOOP: Self = Self(0xFF);

    /// True if a RETH follows the BTH.
    pub fn has_reth(self) -> bool {
        matches!(
            self,
            Self::WRITE_FIRST | Self::WRITE_ONLY | Self::READ_REQUEST
        )
    }

    /// True if an AETH follows the BTH.
    pub fn has_aeth(self) -> bool {
        matches!(
            self,
            Self::READ_RESPONSE_FIRST
                | Self::READ_RESPONSE_LAST
                | Self::READ_RESPONSE_ONLY
                | Self::ACK
        )
    }
}

/// Base Transport Header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bth {
    /// Opcode.
    pub opcode: Opcode,
    /// Solicited event.
    pub solicited: bool,
    /// Migration request bit (Ribosome sets it).
    pub migreq: bool,
    /// Pad count, 0..=3 bytes before the ICRC.
    pub pad_count: u8,
    /// Transport header version (0).
    pub tver: u8,
    /// Partition key.
    pub pkey: u16,
    /// Forward ECN.
    pub fecn: bool,
    /// Backward ECN.
    pub becn: bool,
    /// Destination QP number, 24 bits.
    pub dest_qp: u32,
    /// Acknowledge request.
    pub ack_req: bool,
    /// Packet sequence number, 24 bits.
    pub psn: u32,
}

impl Bth {
    /// Header length in bytes.
    pub const LEN: usize = 12;
    /// Offset of the byte holding FECN/BECN/reserved (masked by the ICRC).
    pub const ICRC_MASKED_BYTE: usize = 4;

    /// A BTH with P_Key 0xFFFF, M set, and everything else zero.
    pub fn new(opcode: Opcode, dest_qp: u32, psn: u32, ack_req: bool) -> Self {
        Self {
            opcode,
            solicited: false,
            migreq: true,
            pad_count: 0,
            tver: 0,
            pkey: 0xffff,
            fecn: false,
            becn: false,
            dest_qp: dest_qp & 0x00ff_ffff,
            ack_req,
            psn: psn & 0x00ff_ffff,
        }
    }

    /// Parses the header; returns it and the rest.
    pub fn parse(b: &[u8]) -> Result<(Self, &[u8])> {
        let (h, rest) = split(b, Self::LEN, "BTH")?;
        let b1 = u8_at(h, 1, "BTH")?;
        let b4 = u8_at(h, 4, "BTH")?;
        Ok((
            Self {
                opcode: Opcode(u8_at(h, 0, "BTH")?),
                solicited: b1 & 0x80 != 0,
                migreq: b1 & 0x40 != 0,
                pad_count: (b1 >> 4) & 0x3,
                tver: b1 & 0x0f,
                pkey: u16_at(h, 2, "BTH")?,
                fecn: b4 & 0x80 != 0,
                becn: b4 & 0x40 != 0,
                dest_qp: u24_at(h, 5, "BTH")?,
                ack_req: u8_at(h, 8, "BTH")? & 0x80 != 0,
                psn: u24_at(h, 9, "BTH")?,
            },
            rest,
        ))
    }

    /// Appends the 12 header bytes (reserved bits zero).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.push(self.opcode.0);
        out.push(
            u8::from(self.solicited) << 7
                | u8::from(self.migreq) << 6
                | (self.pad_count & 3) << 4
                | (self.tver & 0x0f),
        );
        out.extend_from_slice(&self.pkey.to_be_bytes());
        out.push(u8::from(self.fecn) << 7 | u8::from(self.becn) << 6);
        out.extend_from_slice(&u24_bytes(self.dest_qp));
        out.push(u8::from(self.ack_req) << 7);
        out.extend_from_slice(&u24_bytes(self.psn));
    }
}

/// RDMA Extended Transport Header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reth {
    /// Remote virtual address.
    pub va: u64,
    /// Remote key.
    pub rkey: u32,
    /// Total DMA length of the message.
    pub dma_len: u32,
}

impl Reth {
    /// Header length in bytes.
    pub const LEN: usize = 16;

    /// Parses the header; returns it and the rest.
    pub fn parse(b: &[u8]) -> Result<(Self, &[u8])> {
        let (h, rest) = split(b, Self::LEN, "RETH")?;
        Ok((
            Self {
                va: u64_at(h, 0, "RETH")?,
                rkey: u32_at(h, 8, "RETH")?,
                dma_len: u32_at(h, 12, "RETH")?,
            },
            rest,
        ))
    }

    /// Appends the 16 header bytes.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.va.to_be_bytes());
        out.extend_from_slice(&self.rkey.to_be_bytes());
        out.extend_from_slice(&self.dma_len.to_be_bytes());
    }
}

/// NAK codes (AETH syndrome 0b011xxxxx).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NakCode {
    /// PSN sequence error: a gap; the requester must resend from the AETH's PSN.
    PsnSequenceError,
    /// Invalid request (bad opcode sequence, bad length, responder resources exceeded).
    InvalidRequest,
    /// Remote access error (rkey or bounds).
    RemoteAccessError,
    /// Remote operational error.
    RemoteOperationalError,
    /// Invalid RD request.
    InvalidRdRequest,
    /// A reserved code, kept verbatim.
    Other(u8),
}

impl NakCode {
    fn code(self) -> u8 {
        match self {
            Self::PsnSequenceError => 0,
            Self::InvalidRequest => 1,
            Self::RemoteAccessError => 2,
            Self::RemoteOperationalError => 3,
            Self::InvalidRdRequest => 4,
            Self::Other(c) => c & 0x1f,
        }
    }

    fn from_code(c: u8) -> Self {
        match c & 0x1f {
            0 => Self::PsnSequenceError,
            1 => Self::InvalidRequest,
            2 => Self::RemoteAccessError,
            3 => Self::RemoteOperationalError,
            4 => Self::InvalidRdRequest,
            o => Self::Other(o),
        }
    }
}

/// The meaning of an AETH syndrome byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AethKind {
    /// Positive acknowledgement with a credit count (31 = unlimited / invalid).
    Ack {
        /// Credit count, 5 bits.
        credit: u8,
    },
    /// Receiver-not-ready NAK with its timer code.
    RnrNak {
        /// RNR timer code, 5 bits.
        timer: u8,
    },
    /// A negative acknowledgement.
    Nak(NakCode),
    /// Reserved syndrome class 0b010 or 0b1xx.
    Reserved(u8),
}

/// ACK Extended Transport Header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aeth {
    /// Syndrome byte.
    pub syndrome: u8,
    /// Message sequence number, 24 bits.
    pub msn: u32,
}

impl Aeth {
    /// Header length in bytes.
    pub const LEN: usize = 4;
    /// Credit count meaning "no flow control".
    pub const UNLIMITED_CREDIT: u8 = 0x1f;

    /// A positive ACK with unlimited credit.
    pub fn ack(msn: u32) -> Self {
        Self {
            syndrome: Self::UNLIMITED_CREDIT,
            msn: msn & 0x00ff_ffff,
        }
    }

    /// A NAK with `code`.
    pub fn nak(code: NakCode, msn: u32) -> Self {
        Self {
            syndrome: 0x60 | code.code(),
            msn: msn & 0x00ff_ffff,
        }
    }

    /// Decodes the syndrome.
    pub fn kind(&self) -> AethKind {
        let low = self.syndrome & 0x1f;
        match self.syndrome >> 5 {
            0 => AethKind::Ack { credit: low },
            1 => AethKind::RnrNak { timer: low },
            3 => AethKind::Nak(NakCode::from_code(low)),
            _ => AethKind::Reserved(self.syndrome),
        }
    }

    /// Parses the header; returns it and the rest.
    pub fn parse(b: &[u8]) -> Result<(Self, &[u8])> {
        let (h, rest) = split(b, Self::LEN, "AETH")?;
        Ok((
            Self {
                syndrome: u8_at(h, 0, "AETH")?,
                msn: u24_at(h, 1, "AETH")?,
            },
            rest,
        ))
    }

    /// Appends the 4 header bytes.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.push(self.syndrome);
        out.extend_from_slice(&u24_bytes(self.msn));
    }
}
