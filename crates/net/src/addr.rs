//! IPv4/IPv6 addresses and CIDR blocks as integer intervals (IPv4 in the low 32 bits of a
//! `u128`), and back: an address set printed as the fewest CIDR blocks that cover it exactly.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::interval::IntervalSet;

/// A set of addresses of one family.
pub type AddressSet = IntervalSet<u128>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// The largest address of the family.
    pub fn max(self) -> u128 {
        match self {
            Family::V4 => u128::from(u32::MAX),
            Family::V6 => u128::MAX,
        }
    }

    pub fn bits(self) -> u32 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    /// Every address of the family.
    pub fn everything(self) -> AddressSet {
        AddressSet::range(0, self.max())
    }

    /// `0.0.0.0/0` or `::/0`.
    pub fn any_cidr(self) -> &'static str {
        match self {
            Family::V4 => "0.0.0.0/0",
            Family::V6 => "::/0",
        }
    }
}

/// A CIDR block as an inclusive integer range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub family: Family,
    pub first: u128,
    pub last: u128,
    pub prefix_length: u32,
}

impl Cidr {
    /// Parses `a.b.c.d/n`, `x::y/n`, or a bare address (a host block). Host bits are ignored,
    /// as AWS does when it normalises a block.
    pub fn parse(text: &str) -> Option<Cidr> {
        let text = text.trim();
        let (address, length) = match text.split_once('/') {
            Some((address, length)) => (address, Some(length.parse::<u32>().ok()?)),
            None => (text, None),
        };
        let (family, value) = parse_address(address)?;
        let prefix_length = length.unwrap_or(family.bits());
        if prefix_length > family.bits() {
            return None;
        }
        let host_bits = family.bits() - prefix_length;
        let host_mask: u128 = if host_bits == 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
        let first = value & !host_mask;
        Some(Cidr { family, first, last: first | host_mask, prefix_length })
    }

    pub fn set(&self) -> AddressSet {
        AddressSet::range(self.first, self.last)
    }

    pub fn contains(&self, address: u128) -> bool {
        self.first <= address && address <= self.last
    }
}

/// Parses an address of either family into its integer value.
pub fn parse_address(text: &str) -> Option<(Family, u128)> {
    match text.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(address) => Some((Family::V4, u128::from(u32::from(address)))),
        IpAddr::V6(address) => Some((Family::V6, u128::from(address))),
    }
}

pub fn format_address(family: Family, value: u128) -> String {
    match family {
        Family::V4 => Ipv4Addr::from(u32::try_from(value).unwrap_or(u32::MAX)).to_string(),
        Family::V6 => Ipv6Addr::from(value).to_string(),
    }
}

/// The fewest CIDR blocks whose union is exactly `set`.
pub fn to_cidrs(family: Family, set: &AddressSet) -> Vec<String> {
    cidr_blocks(family, set).into_iter().map(|(first, _, length)| format!("{}/{length}", format_address(family, first))).collect()
}

/// The fewest CIDR blocks that cover `set` and nothing outside `set ∪ dont_care`. Used for
/// sources from the internet: a VPC's own blocks can never be an internet source, so
/// "everything except the VPC" reads as `0.0.0.0/0`, and a block wholly made of
/// don't-care addresses is left out.
pub fn to_cidrs_ignoring(family: Family, set: &AddressSet, dont_care: &AddressSet) -> Vec<String> {
    if dont_care.is_empty() {
        return to_cidrs(family, set);
    }
    cidr_blocks(family, &set.union(dont_care))
        .into_iter()
        .filter(|&(first, last, _)| !AddressSet::range(first, last).intersection(set).is_empty())
        .map(|(first, _, length)| format!("{}/{length}", format_address(family, first)))
        .collect()
}

/// (first, last, prefix length) of the fewest CIDR blocks whose union is exactly `set`.
fn cidr_blocks(family: Family, set: &AddressSet) -> Vec<(u128, u128, u32)> {
    let mut blocks = Vec::new();
    for &(from, to) in set.ranges() {
        let mut start = from;
        loop {
            // The largest block aligned at `start` that stays within `to`.
            let alignment = if start == 0 { family.bits() } else { start.trailing_zeros().min(family.bits()) };
            let remaining = to - start;
            let fit = if remaining == u128::MAX { 128 } else { 127 - (remaining + 1).leading_zeros() };
            let size_bits = alignment.min(fit);
            let last = if size_bits == 128 { u128::MAX } else { start + ((1u128 << size_bits) - 1) };
            blocks.push((start, last, family.bits() - size_bits));
            if last >= to {
                break;
            }
            start = last + 1;
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::{AddressSet, Cidr, Family, to_cidrs, to_cidrs_ignoring};
    use crate::interval::IntervalSet;

    #[test]
    fn cidrs_parse_to_ranges() {
        let cases = [
            ("10.0.0.0/8", Some((Family::V4, 0x0A00_0000, 0x0AFF_FFFF))),
            ("10.1.2.3/8", Some((Family::V4, 0x0A00_0000, 0x0AFF_FFFF))),
            ("0.0.0.0/0", Some((Family::V4, 0, 0xFFFF_FFFF))),
            ("1.2.3.4", Some((Family::V4, 0x0102_0304, 0x0102_0304))),
            ("::/0", Some((Family::V6, 0, u128::MAX))),
            ("2001:db8::/32", Some((Family::V6, 0x2001_0db8 << 96, (0x2001_0db8 << 96) | ((1u128 << 96) - 1)))),
            ("10.0.0.0/33", None),
            ("banana/8", None),
        ];
        for (text, expected) in cases {
            assert_eq!(Cidr::parse(text).map(|cidr| (cidr.family, cidr.first, cidr.last)), expected, "{text}");
        }
    }

    #[test]
    fn sets_print_as_the_fewest_exact_cidrs() {
        let check = |family: Family, blocks: &[&str], expected: &[&str]| {
            let set = IntervalSet::from_ranges(blocks.iter().map(|block| {
                let cidr = Cidr::parse(block).unwrap();
                (cidr.first, cidr.last)
            }));
            assert_eq!(to_cidrs(family, &set), expected, "{blocks:?}");
        };
        check(Family::V4, &["0.0.0.0/0"], &["0.0.0.0/0"]);
        check(Family::V4, &["10.0.0.0/25", "10.0.0.128/25"], &["10.0.0.0/24"]);
        check(Family::V4, &["10.0.0.1", "10.0.0.2"], &["10.0.0.1/32", "10.0.0.2/32"]);
        check(Family::V6, &["::/0"], &["::/0"]);
        check(Family::V6, &["2001:db8::/33", "2001:db8:8000::/33"], &["2001:db8::/32"]);
        let everything_but = IntervalSet::range(0u128, 0xFFFF_FFFF).difference(&IntervalSet::range(0x0A00_0000, 0x0AFF_FFFF));
        let blocks = to_cidrs(Family::V4, &everything_but);
        assert_eq!(blocks.len(), 8);
        assert_eq!(blocks[0], "0.0.0.0/5");
    }

    #[test]
    fn vpc_blocks_are_dont_care_when_listing_internet_sources() {
        let vpc = Cidr::parse("10.0.0.0/16").map(|cidr| cidr.set()).unwrap_or_default();
        let everything_but_vpc = Family::V4.everything().difference(&vpc);
        assert_eq!(to_cidrs(Family::V4, &everything_but_vpc).len(), 16);
        assert_eq!(to_cidrs_ignoring(Family::V4, &everything_but_vpc, &vpc), vec!["0.0.0.0/0".to_string()]);
        let narrow = Cidr::parse("203.0.113.0/24").map(|cidr| cidr.set()).unwrap_or_default();
        assert_eq!(to_cidrs_ignoring(Family::V4, &narrow, &vpc), vec!["203.0.113.0/24".to_string()]);
        assert_eq!(to_cidrs_ignoring(Family::V4, &AddressSet::empty(), &vpc), Vec::<String>::new());
    }
}
