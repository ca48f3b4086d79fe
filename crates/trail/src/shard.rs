//! `--shard I/N`: a deterministic split of work between N processes, zero-based (0 <= I < N, as
//! Kubernetes' JOB_COMPLETION_INDEX and AWS Batch's AWS_BATCH_JOB_ARRAY_INDEX count), the one
//! shard type of `vigil trail hunt --shard` and `vigil scan --shard`. For CloudTrail log objects,
//! so that together the processes read each object exactly once and none needs to hear from the
//! others:
//!
//! An object belongs to one shard by a hash of its name from the trail's key layout on
//! (`AWSLogs/...` onwards when the name holds it, else the whole name), so the same object has
//! the same shard whether it is read in the bucket or from a local copy (`aws s3 sync`), and
//! whatever the other shards listed: an object delivered while the shards list the bucket is
//! still read exactly once by the shard it belongs to.

use std::fmt;

/// One shard of N (`index` counts from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// A `--shard` value that is not `I/N` with 0 <= I < N.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a shard: write I/N with 0 <= I < N (e.g. 0/8)")]
pub struct ShardError {
    pub text: String,
}

impl Shard {
    /// Parses `I/N` (zero-based: `0/4` .. `3/4`).
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let error = || ShardError { text: text.to_string() };
        let (index, count) = text.trim().split_once('/').ok_or_else(error)?;
        let index: u32 = index.trim().parse().map_err(|_| error())?;
        let count: u32 = count.trim().parse().map_err(|_| error())?;
        if count == 0 || index >= count {
            return Err(error());
        }
        Ok(Shard { index, count })
    }

    /// The shard `index` (zero-based) of `count`, when it is one.
    pub fn new(index: u32, count: u32) -> Option<Shard> {
        (index < count).then_some(Shard { index, count })
    }

    /// The shard of `count` that takes the `position`-th item of a list every shard sorts alike
    /// (the one rule of the split: item `i` goes to shard `i mod N`); `None` when `count` is 0.
    pub fn of(position: u64, count: u32) -> Option<Shard> {
        let index = u32::try_from(position.checked_rem(u64::from(count))?).ok()?;
        Some(Shard { index, count })
    }

    /// Whether this shard takes the `position`-th item of a list every shard sorts alike.
    pub fn takes(self, position: u64) -> bool {
        Shard::of(position, self.count) == Some(self)
    }

    pub fn index(self) -> u32 {
        self.index
    }

    pub fn count(self) -> u32 {
        self.count
    }

    /// Whether this shard reads the object (an S3 key or a file path).
    pub fn contains(self, name: &str) -> bool {
        self.takes(fnv1a(layout_name(name).as_bytes()))
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.index, self.count)
    }
}

/// The part of an object's name that the shard is decided on: from the last `AWSLogs/` on (the
/// trail's own layout, the same in the bucket and in a copy of it), else the whole name with
/// `\` read as `/`.
pub fn layout_name(name: &str) -> String {
    let name = name.replace('\\', "/");
    match name.rfind("AWSLogs/") {
        Some(start) => name[start..].to_string(),
        None => name,
    }
}

/// 64-bit FNV-1a: written here because the split must never change between vigil versions or
/// platforms (the standard library's hasher promises neither).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_only_as_i_of_n() {
        assert_eq!(Shard::parse("2/8"), Ok(Shard { index: 2, count: 8 }));
        assert_eq!(Shard::parse("0/4"), Ok(Shard { index: 0, count: 4 }));
        assert_eq!(Shard::parse(" 0 / 1 ").map(|shard| shard.to_string()), Ok("0/1".to_string()));
        for bad in ["4/4", "5/4", "0/0", "1", "a/b", "", "1/4/2", "-1/4"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_shard_of_a_position_is_the_one_that_takes_it() {
        assert_eq!(Shard::of(7, 0), None);
        for count in 1..=5u32 {
            for position in 0..20u64 {
                let owner = Shard::of(position, count).unwrap();
                assert_eq!(u64::from(owner.index()), position % u64::from(count));
                let takers: Vec<u32> = (0..count).filter(|index| Shard::new(*index, count).unwrap().takes(position)).collect();
                assert_eq!(takers, vec![owner.index()]);
            }
        }
    }

    #[test]
    fn every_object_is_in_exactly_one_shard() {
        let names: Vec<String> = (0..500)
            .map(|n| format!("AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/{:02}/111122223333_CloudTrail_eu-west-1_x{n}.json.gz", n % 28 + 1))
            .collect();
        for count in 1..=7 {
            let mut sizes = vec![0usize; count as usize];
            for name in &names {
                let owners: Vec<u32> = (0..count).filter(|index| Shard::new(*index, count).is_some_and(|shard| shard.contains(name))).collect();
                assert_eq!(owners.len(), 1, "{name} in {owners:?} of {count}");
                sizes[owners[0] as usize] += 1;
            }
            // The split is roughly even: no shard gets less than half its share.
            assert!(sizes.iter().all(|size| *size * 2 * count as usize >= names.len()), "{count}: {sizes:?}");
        }
    }

    #[test]
    fn a_bucket_key_and_its_local_copy_fall_in_the_same_shard() {
        let key = "logs/AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/2024/05/01/f.json.gz";
        assert_eq!(layout_name(key), "AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/2024/05/01/f.json.gz");
        assert_eq!(layout_name("/mnt/copy/AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/2024/05/01/f.json.gz"), layout_name(key));
        assert_eq!(layout_name("C:\\copy\\AWSLogs\\1\\f.json"), "AWSLogs/1/f.json");
        for count in 1..10 {
            let shard_of = |name: &str| (0..count).find(|index| Shard::new(*index, count).is_some_and(|shard| shard.contains(name)));
            assert_eq!(shard_of(key), shard_of("/mnt/copy/AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/2024/05/01/f.json.gz"));
        }
    }

    #[test]
    fn the_split_never_changes_between_versions() {
        // Pinned values: a change here re-deals every object between shards already deployed.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        // Which of three shards reads each name, computed independently of this code.
        let shard_of = |name: &str| (0..3).find(|index| Shard::new(*index, 3).is_some_and(|shard| shard.contains(name)));
        let names = ["AWSLogs/1/a.json", "AWSLogs/1/b.json", "AWSLogs/1/c.json", "x/AWSLogs/1/d.json"];
        assert_eq!(names.map(shard_of), [Some(0), Some(1), Some(2), Some(1)]);
    }
}
