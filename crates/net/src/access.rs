//! The traffic space and its exact sets. A packet is (protocol slot, value, source address):
//! the value is the destination port for TCP and UDP, `type * 256 + code` for ICMP (ICMPv6
//! for IPv6), and the protocol number for every other protocol. A [`Region`] is a set of
//! packets of one address family, stored as a piecewise-constant map from source-address
//! intervals to [`Access`] (the protocols and values allowed from those addresses).

use serde::Serialize;

use crate::addr::{AddressSet, Family};
use crate::interval::IntervalSet;

/// A set of values (ports, ICMP type/code pairs or protocol numbers).
pub type ValueSet = IntervalSet<u16>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Slot {
    Tcp,
    Udp,
    /// ICMP for IPv4, ICMPv6 for IPv6.
    Icmp,
    /// Any other IP protocol, by number.
    Other,
}

impl Slot {
    pub const ALL: [Slot; 4] = [Slot::Tcp, Slot::Udp, Slot::Icmp, Slot::Other];

    fn index(self) -> usize {
        self as usize
    }

    /// Every value of the slot.
    pub fn universe(self) -> ValueSet {
        match self {
            Slot::Other => ValueSet::range(0, 255),
            _ => ValueSet::full(),
        }
    }

    /// Maps an IP protocol number to its slot and the value set it covers (for protocols
    /// without ports: their number, in the `Other` slot).
    pub fn of_protocol_number(number: u8, family: Family) -> (Slot, Option<ValueSet>) {
        match (number, family) {
            (6, _) => (Slot::Tcp, None),
            (17, _) => (Slot::Udp, None),
            (1, Family::V4) | (58, Family::V6) => (Slot::Icmp, None),
            (other, _) => (Slot::Other, Some(ValueSet::single(u16::from(other)))),
        }
    }

    /// The name printed for the slot.
    pub fn name(self, family: Family) -> &'static str {
        match (self, family) {
            (Slot::Tcp, _) => "tcp",
            (Slot::Udp, _) => "udp",
            (Slot::Icmp, Family::V4) => "icmp",
            (Slot::Icmp, Family::V6) => "icmpv6",
            (Slot::Other, _) => "other",
        }
    }

    /// Whether a reply must cross the network ACLs back to the client: TCP and UDP replies
    /// go to the client's ephemeral port. ICMP and other protocols are judged one way.
    pub fn needs_reply(self) -> bool {
        matches!(self, Slot::Tcp | Slot::Udp)
    }
}

/// The ICMP value set for a type and code, where -1 (or absent) means all.
pub fn icmp_values(icmp_type: Option<i32>, icmp_code: Option<i32>) -> ValueSet {
    match (icmp_type.filter(|value| (0..=255).contains(value)), icmp_code.filter(|value| (0..=255).contains(value))) {
        (None, _) => ValueSet::full(),
        (Some(kind), None) => ValueSet::range((kind as u16) << 8, ((kind as u16) << 8) | 0xFF),
        (Some(kind), Some(code)) => ValueSet::single(((kind as u16) << 8) | code as u16),
    }
}

/// A port range where absent or -1 bounds mean all ports.
pub fn port_values(from: Option<i32>, to: Option<i32>) -> ValueSet {
    match (from, to) {
        (Some(from), Some(to)) if from >= 0 && to >= 0 => ValueSet::range(from.min(65535) as u16, to.min(65535) as u16),
        _ => ValueSet::full(),
    }
}

/// The values allowed per protocol slot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Access {
    slots: [ValueSet; 4],
}

impl Access {
    pub fn none() -> Access {
        Access::default()
    }

    /// Every protocol and value.
    pub fn all() -> Access {
        Access { slots: Slot::ALL.map(Slot::universe) }
    }

    pub fn only(slot: Slot, values: ValueSet) -> Access {
        let mut access = Access::none();
        access.slots[slot.index()] = values.intersection(&slot.universe());
        access
    }

    pub fn get(&self, slot: Slot) -> &ValueSet {
        &self.slots[slot.index()]
    }

    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(ValueSet::is_empty)
    }

    pub fn is_all(&self) -> bool {
        Slot::ALL.iter().all(|slot| self.get(*slot) == &slot.universe())
    }

    pub fn contains(&self, slot: Slot, value: u16) -> bool {
        self.get(slot).contains(value)
    }

    fn zip(&self, other: &Access, operation: impl Fn(&ValueSet, &ValueSet) -> ValueSet) -> Access {
        Access { slots: [0, 1, 2, 3].map(|index| operation(&self.slots[index], &other.slots[index])) }
    }

    pub fn union(&self, other: &Access) -> Access {
        self.zip(other, ValueSet::union)
    }

    pub fn intersection(&self, other: &Access) -> Access {
        self.zip(other, ValueSet::intersection)
    }

    pub fn difference(&self, other: &Access) -> Access {
        self.zip(other, ValueSet::difference)
    }
}

/// A set of packets of one family: source-address intervals mapped to what they may send.
/// Segment `i` covers `[segments[i].0, segments[i + 1].0 - 1]`; the first starts at 0 and the
/// last runs to `u128::MAX`. Neighbouring segments never hold equal [`Access`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Region {
    segments: Vec<(u128, Access)>,
}

impl Default for Region {
    fn default() -> Region {
        Region::empty()
    }
}

impl Region {
    pub fn empty() -> Region {
        Region { segments: vec![(0, Access::none())] }
    }

    /// The packets `access` allows from every address in `sources`.
    pub fn from_box(sources: &AddressSet, access: &Access) -> Region {
        if access.is_empty() || sources.is_empty() {
            return Region::empty();
        }
        let mut region = Region { segments: Vec::with_capacity(sources.ranges().len() * 2 + 1) };
        region.segments.push((0, Access::none()));
        for &(from, to) in sources.ranges() {
            region.push(from, access.clone());
            if to == u128::MAX {
                break;
            }
            region.push(to + 1, Access::none());
        }
        region
    }

    /// Everything each slot allows, from that slot's sources only.
    pub fn per_slot(sources: &[AddressSet; 4]) -> Region {
        let mut region = Region::empty();
        for slot in Slot::ALL {
            region = region.union(&Region::from_box(&sources[slot.index()], &Access::only(slot, slot.universe())));
        }
        region
    }

    /// Appends a segment, merging it with the previous one when equal and replacing a
    /// previous segment that started at the same point.
    fn push(&mut self, start: u128, access: Access) {
        if let Some(last) = self.segments.last_mut()
            && last.0 == start
        {
            last.1 = access;
            let length = self.segments.len();
            if length >= 2 && self.segments[length - 2].1 == self.segments[length - 1].1 {
                self.segments.pop();
            }
            return;
        }
        if self.segments.last().is_some_and(|last| last.1 == access) {
            return;
        }
        self.segments.push((start, access));
    }

    fn combine(&self, other: &Region, operation: impl Fn(&Access, &Access) -> Access) -> Region {
        let mut result = Region { segments: Vec::with_capacity(self.segments.len() + other.segments.len()) };
        let (mut left, mut right) = (0usize, 0usize);
        let mut start = 0u128;
        while let (Some(a), Some(b)) = (self.segments.get(left), other.segments.get(right)) {
            result.push(start, operation(&a.1, &b.1));
            let next_left = self.segments.get(left + 1).map(|segment| segment.0);
            let next_right = other.segments.get(right + 1).map(|segment| segment.0);
            match (next_left, next_right) {
                (None, None) => break,
                (Some(l), None) => {
                    start = l;
                    left += 1;
                }
                (None, Some(r)) => {
                    start = r;
                    right += 1;
                }
                (Some(l), Some(r)) => {
                    start = l.min(r);
                    if l == start {
                        left += 1;
                    }
                    if r == start {
                        right += 1;
                    }
                }
            }
        }
        result
    }

    pub fn union(&self, other: &Region) -> Region {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        self.combine(other, Access::union)
    }

    pub fn intersection(&self, other: &Region) -> Region {
        if self.is_empty() || other.is_empty() {
            return Region::empty();
        }
        self.combine(other, Access::intersection)
    }

    pub fn difference(&self, other: &Region) -> Region {
        if self.is_empty() || other.is_empty() {
            return self.clone();
        }
        self.combine(other, Access::difference)
    }

    /// Keeps the packets from `sources` only.
    pub fn restrict_sources(&self, sources: &AddressSet) -> Region {
        self.intersection(&Region::from_box(sources, &Access::all()))
    }

    /// Keeps the packets `access` allows (from any source).
    pub fn restrict_access(&self, access: &Access) -> Region {
        let mut result = Region { segments: Vec::with_capacity(self.segments.len()) };
        for (start, value) in &self.segments {
            result.push(*start, value.intersection(access));
        }
        result
    }

    pub fn is_empty(&self) -> bool {
        self.segments.iter().all(|segment| segment.1.is_empty())
    }

    /// Whether the packet is in the set.
    pub fn contains(&self, slot: Slot, value: u16, source: u128) -> bool {
        self.access_at(source).contains(slot, value)
    }

    /// What `source` may send.
    pub fn access_at(&self, source: u128) -> &Access {
        let index = self.segments.partition_point(|segment| segment.0 <= source).saturating_sub(1);
        self.segments.get(index).map(|segment| &segment.1).unwrap_or(&EMPTY_ACCESS)
    }

    /// The sources allowed to send something in `slot` within `values`.
    pub fn sources_for(&self, slot: Slot, values: &ValueSet) -> AddressSet {
        let mut ranges = Vec::new();
        for (index, (start, access)) in self.segments.iter().enumerate() {
            if access.get(slot).intersects(values) {
                let end = self.segments.get(index + 1).map(|next| next.0 - 1).unwrap_or(u128::MAX);
                ranges.push((*start, end));
            }
        }
        AddressSet::from_ranges(ranges)
    }

    /// The (source interval, access) pieces with something allowed.
    pub fn pieces(&self) -> impl Iterator<Item = ((u128, u128), &Access)> {
        self.segments.iter().enumerate().filter(|(_, segment)| !segment.1.is_empty()).map(|(index, (start, access))| {
            let end = self.segments.get(index + 1).map(|next| next.0 - 1).unwrap_or(u128::MAX);
            ((*start, end), access)
        })
    }

    /// Number of segments (a measure of the set's complexity).
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }
}

static EMPTY_ACCESS: Access = Access { slots: [ValueSet::EMPTY, ValueSet::EMPTY, ValueSet::EMPTY, ValueSet::EMPTY] };

#[cfg(test)]
mod tests {
    use super::{Access, Region, Slot, ValueSet};
    use crate::addr::AddressSet;

    #[test]
    fn region_operations_agree_with_pointwise_evaluation() {
        let a = Region::from_box(&AddressSet::from_ranges([(10, 20), (40, 50)]), &Access::only(Slot::Tcp, ValueSet::range(20, 30)));
        let b = Region::from_box(&AddressSet::from_ranges([(15, 45)]), &Access::only(Slot::Tcp, ValueSet::range(25, 80)));
        let c = Region::from_box(&AddressSet::from_ranges([(0, u128::MAX)]), &Access::only(Slot::Udp, ValueSet::single(53)));
        for source in [0u128, 9, 10, 14, 15, 20, 21, 39, 40, 45, 46, 50, 51, u128::MAX] {
            for (slot, port) in [(Slot::Tcp, 20), (Slot::Tcp, 25), (Slot::Tcp, 30), (Slot::Tcp, 80), (Slot::Udp, 53), (Slot::Udp, 54)] {
                let (x, y, z) = (a.contains(slot, port, source), b.contains(slot, port, source), c.contains(slot, port, source));
                assert_eq!(a.union(&b).union(&c).contains(slot, port, source), x || y || z, "union at {source} {port}");
                assert_eq!(a.intersection(&b).contains(slot, port, source), x && y, "intersection at {source} {port}");
                assert_eq!(a.difference(&b).contains(slot, port, source), x && !y, "difference at {source} {port}");
            }
        }
        assert_eq!(a.union(&b).difference(&b).difference(&a), Region::empty());
        assert!(Region::from_box(&AddressSet::full(), &Access::all()).contains(Slot::Other, 47, u128::MAX));
    }
}
