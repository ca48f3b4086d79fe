//! BER to DER: AWS serves the identity document's PKCS#7 signature in BER with indefinite
//! lengths (`30 80 ...`) and the content as a constructed OCTET STRING of chunks, which a
//! DER decoder refuses. [`to_der`] rewrites every indefinite length as a definite one and
//! joins constructed OCTET STRINGs into one primitive OCTET STRING; definite-length input
//! comes out unchanged.

/// Why bytes are not BER.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed BER at byte {offset}: {reason}")]
pub struct BerError {
    pub offset: usize,
    pub reason: &'static str,
}

/// Deepest nesting accepted (a signature is a few levels deep; this bounds recursion).
const MAX_DEPTH: usize = 32;

/// The DER form of BER input (indefinite lengths made definite, constructed OCTET STRINGs
/// joined). Trailing bytes after the first element are refused.
pub fn to_der(input: &[u8]) -> Result<Vec<u8>, BerError> {
    let mut output = Vec::with_capacity(input.len());
    let end = element(input, 0, 0, &mut output)?;
    if end != input.len() {
        return Err(BerError { offset: end, reason: "trailing bytes after the element" });
    }
    Ok(output)
}

/// Appends `length` in DER.
pub fn push_length(output: &mut Vec<u8>, length: usize) {
    if length < 0x80 {
        output.push(length as u8);
        return;
    }
    let bytes = length.to_be_bytes();
    let skip = bytes.iter().take_while(|byte| **byte == 0).count();
    let significant = bytes.get(skip..).unwrap_or_default();
    output.push(0x80 | significant.len() as u8);
    output.extend_from_slice(significant);
}

/// Reads one element at `at`, appends its DER form and returns where it ended. Only
/// single-byte tags occur in CMS; a multi-byte tag is refused.
fn element(input: &[u8], at: usize, depth: usize, output: &mut Vec<u8>) -> Result<usize, BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError { offset: at, reason: "nested too deeply" });
    }
    let fail = |offset: usize, reason: &'static str| BerError { offset, reason };
    let tag = *input.get(at).ok_or(fail(at, "truncated before a tag"))?;
    if tag & 0x1f == 0x1f {
        return Err(fail(at, "multi-byte tags are not supported"));
    }
    let constructed = tag & 0x20 != 0;
    let first = *input.get(at + 1).ok_or(fail(at + 1, "truncated before a length"))?;
    let mut position = at + 2;
    let definite = if first == 0x80 {
        if !constructed {
            return Err(fail(at + 1, "indefinite length on a primitive element"));
        }
        None
    } else if first & 0x80 == 0 {
        Some(first as usize)
    } else {
        let count = (first & 0x7f) as usize;
        if count > 4 {
            return Err(fail(at + 1, "length longer than 4 bytes"));
        }
        let bytes = input.get(position..position + count).ok_or(fail(position, "truncated length"))?;
        position += count;
        Some(bytes.iter().fold(0usize, |value, byte| (value << 8) | *byte as usize))
    };
    if !constructed {
        let length = definite.unwrap_or_default();
        let content = input.get(position..position + length).ok_or(fail(position, "content runs past the end"))?;
        output.push(tag);
        push_length(output, length);
        output.extend_from_slice(content);
        return Ok(position + length);
    }
    // Children are rewritten into a buffer first, since their DER length is known only after.
    let mut children = Vec::new();
    let end = match definite {
        Some(length) => {
            let end = position.checked_add(length).filter(|end| *end <= input.len()).ok_or(fail(position, "content runs past the end"))?;
            while position < end {
                position = element(input, position, depth + 1, &mut children)?;
            }
            if position != end {
                return Err(fail(position, "a child runs past its parent"));
            }
            end
        }
        None => loop {
            match (input.get(position), input.get(position + 1)) {
                (Some(0), Some(0)) => break position + 2,
                (None, _) | (_, None) => return Err(fail(position, "indefinite length without its end-of-contents")),
                _ => position = element(input, position, depth + 1, &mut children)?,
            }
        },
    };
    if tag == 0x24 {
        // A constructed OCTET STRING: DER has only the primitive form, the chunks joined.
        let joined = join_octet_chunks(&children).ok_or(fail(at, "a constructed OCTET STRING holds something else than OCTET STRINGs"))?;
        output.push(0x04);
        push_length(output, joined.len());
        output.extend_from_slice(&joined);
    } else {
        output.push(tag);
        push_length(output, children.len());
        output.extend_from_slice(&children);
    }
    Ok(end)
}

/// The contents of consecutive DER OCTET STRINGs, concatenated.
fn join_octet_chunks(mut der: &[u8]) -> Option<Vec<u8>> {
    let mut joined = Vec::new();
    while !der.is_empty() {
        if *der.first()? != 0x04 {
            return None;
        }
        let first = *der.get(1)?;
        let (length, header) = if first & 0x80 == 0 {
            (first as usize, 2)
        } else {
            let count = (first & 0x7f) as usize;
            let bytes = der.get(2..2 + count)?;
            (bytes.iter().fold(0usize, |value, byte| (value << 8) | *byte as usize), 2 + count)
        };
        joined.extend_from_slice(der.get(header..header + length)?);
        der = der.get(header + length..)?;
    }
    Some(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &[u8], expected: Result<&[u8], &str>) {
        match (to_der(input), expected) {
            (Ok(actual), Ok(expected)) => assert_eq!(actual, expected, "input {input:02x?}"),
            (Err(error), Err(reason)) => assert_eq!(error.reason, reason, "input {input:02x?}"),
            (actual, expected) => panic!("input {input:02x?}: got {actual:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn indefinite_lengths_become_definite_and_chunked_octet_strings_are_joined() {
        check(&[0x30, 0x03, 0x02, 0x01, 0x05], Ok(&[0x30, 0x03, 0x02, 0x01, 0x05]));
        check(&[0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00], Ok(&[0x30, 0x03, 0x02, 0x01, 0x05]));
        check(&[0xa0, 0x80, 0x24, 0x80, 0x04, 0x01, b'a', 0x04, 0x02, b'b', b'c', 0x00, 0x00, 0x00, 0x00], Ok(&[0xa0, 0x05, 0x04, 0x03, b'a', b'b', b'c']));
        let long = vec![7u8; 300];
        let mut input = vec![0x30, 0x80, 0x04, 0x82, 0x01, 0x2c];
        input.extend_from_slice(&long);
        input.extend_from_slice(&[0, 0]);
        let mut expected = vec![0x30, 0x82, 0x01, 0x30, 0x04, 0x82, 0x01, 0x2c];
        expected.extend_from_slice(&long);
        check(&input, Ok(&expected));
    }

    #[test]
    fn malformed_ber_is_refused_with_its_reason() {
        check(&[], Err("truncated before a tag"));
        check(&[0x30, 0x80, 0x02, 0x01, 0x05], Err("indefinite length without its end-of-contents"));
        check(&[0x04, 0x80], Err("indefinite length on a primitive element"));
        check(&[0x30, 0x05, 0x02, 0x01], Err("content runs past the end"));
        check(&[0x02, 0x01, 0x05, 0x00], Err("trailing bytes after the element"));
        check(&[0x24, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00], Err("a constructed OCTET STRING holds something else than OCTET STRINGs"));
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 40).flatten().collect();
        check(&deep, Err("nested too deeply"));
    }
}
