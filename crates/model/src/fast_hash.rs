//! A fast, non-cryptographic hash for in-memory tables keyed by text the process built itself
//! (the ledger index, the check runner's string interner): several times faster than the
//! standard library's SipHash on ARNs and API names. It offers no protection against chosen
//! collisions, so it is only for tables whose keys an attacker cannot pick in bulk to slow a
//! scan down (keys from the account's own inventory, probed a few million times a scan).

use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` hashed with [`FastHasher`].
pub type FastHashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A multiply-rotate hash over 8-byte words (the FxHash scheme), with the high bits spread
/// into the low ones on `finish` (hash tables index by the low bits, shard pickers by the high).
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.add(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let remainder = chunks.remainder();
        if !remainder.is_empty() {
            let mut word = [0u8; 8];
            word[..remainder.len()].copy_from_slice(remainder);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

/// The [`FastHasher`] hash of one text.
pub fn fast_hash(text: &str) -> u64 {
    let mut hasher = FastHasher::default();
    hasher.write(text.as_bytes());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_that_differ_anywhere_hash_apart() {
        let texts = ["", "a", "b", "ab", "ba", "abcdefgh", "abcdefgi", "abcdefgh\0", "arn:aws:s3:::bucket-1", "arn:aws:s3:::bucket-2"];
        let hashes: std::collections::BTreeSet<u64> = texts.iter().map(|text| fast_hash(text)).collect();
        assert_eq!(hashes.len(), texts.len());
        // A trailing NUL is not padding: the length is part of the hash.
        assert_ne!(fast_hash("abc"), fast_hash("abc\0"));
    }

    #[test]
    fn a_map_keyed_by_text_tuples_finds_what_it_holds() {
        let mut map: FastHashMap<(&str, &str, Option<&str>), usize> = FastHashMap::default();
        for index in 0..1000 {
            map.insert(("s3", "GetBucketPolicy", Some(["a", "b", "c"][index % 3])), index);
        }
        assert_eq!(map.len(), 3);
        assert_eq!(map.get(&("s3", "GetBucketPolicy", Some("b"))), Some(&997));
        assert_eq!(map.get(&("s3", "GetBucketPolicy", None)), None);
    }
}
