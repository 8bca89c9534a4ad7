//! Compression detection by magic bytes: object names lie (Firehose writes gzip without an
//! extension, people save plain JSON as `.gz`).

/// How an object's bytes are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// One or more gzip members back to back.
    Gzip,
    None,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Detects the compression from the first bytes of an object.
pub fn detect_compression(head: &[u8]) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else {
        Compression::None
    }
}

/// `bytes` as one gzip member (fast level), for tests of the decoders.
#[cfg(test)]
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_gzip_by_magic_only() {
        let cases: &[(&[u8], Compression)] = &[
            (&[0x1f, 0x8b, 0x08, 0x00], Compression::Gzip),
            (&[0x1f, 0x8b], Compression::Gzip),
            (&[0x1f], Compression::None),
            (b"", Compression::None),
            (b"{\"requestId\":\"r\"}", Compression::None),
            (&[0x28, 0xb5, 0x2f, 0xfd], Compression::None),
        ];
        for (head, expected) in cases {
            assert_eq!(detect_compression(head), *expected, "{head:?}");
        }
    }
}
