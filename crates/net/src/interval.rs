//! Sorted sets of disjoint inclusive intervals over unsigned integers: ports, ICMP
//! type/code pairs, IPv4 and IPv6 addresses. Every set operation is exact and linear.

use std::fmt;

/// An integer domain an [`IntervalSet`] ranges over.
pub trait Point: Copy + Ord + fmt::Debug {
    const MIN: Self;
    const MAX: Self;
    /// `self + 1`; never called on `MAX`.
    fn next(self) -> Self;
    /// `self - 1`; never called on `MIN`.
    fn previous(self) -> Self;
}

macro_rules! point {
    ($type:ty) => {
        impl Point for $type {
            const MIN: $type = <$type>::MIN;
            const MAX: $type = <$type>::MAX;
            fn next(self) -> $type {
                self.saturating_add(1)
            }
            fn previous(self) -> $type {
                self.saturating_sub(1)
            }
        }
    };
}
point!(u16);
point!(u32);
point!(u128);

/// A set of integers stored as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct IntervalSet<T: Point> {
    ranges: Vec<(T, T)>,
}

impl<T: Point> fmt::Debug for IntervalSet<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_list().entries(self.ranges.iter()).finish()
    }
}

impl<T: Point> IntervalSet<T> {
    /// The empty set, usable in constants.
    pub const EMPTY: IntervalSet<T> = IntervalSet { ranges: Vec::new() };

    pub fn empty() -> IntervalSet<T> {
        IntervalSet { ranges: Vec::new() }
    }

    pub fn full() -> IntervalSet<T> {
        IntervalSet { ranges: vec![(T::MIN, T::MAX)] }
    }

    /// `[from, to]`, or the empty set when `from > to`.
    pub fn range(from: T, to: T) -> IntervalSet<T> {
        if from > to { IntervalSet::empty() } else { IntervalSet { ranges: vec![(from, to)] } }
    }

    pub fn single(value: T) -> IntervalSet<T> {
        IntervalSet::range(value, value)
    }

    /// Builds a set from ranges in any order, overlapping or not.
    pub fn from_ranges(ranges: impl IntoIterator<Item = (T, T)>) -> IntervalSet<T> {
        let mut sorted: Vec<(T, T)> = ranges.into_iter().filter(|(from, to)| from <= to).collect();
        sorted.sort_unstable();
        let mut merged: Vec<(T, T)> = Vec::with_capacity(sorted.len());
        for (from, to) in sorted {
            match merged.last_mut() {
                Some(last) if last.1 == T::MAX || from <= last.1.next() => last.1 = last.1.max(to),
                _ => merged.push((from, to)),
            }
        }
        IntervalSet { ranges: merged }
    }

    pub fn ranges(&self) -> &[(T, T)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.ranges.len() == 1 && self.ranges[0] == (T::MIN, T::MAX)
    }

    pub fn first(&self) -> Option<T> {
        self.ranges.first().map(|range| range.0)
    }

    pub fn contains(&self, value: T) -> bool {
        let index = self.ranges.partition_point(|range| range.1 < value);
        self.ranges.get(index).is_some_and(|range| range.0 <= value)
    }

    pub fn union(&self, other: &IntervalSet<T>) -> IntervalSet<T> {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        IntervalSet::from_ranges(self.ranges.iter().chain(other.ranges.iter()).copied())
    }

    pub fn complement(&self) -> IntervalSet<T> {
        let mut ranges = Vec::with_capacity(self.ranges.len() + 1);
        let mut start = Some(T::MIN);
        for &(from, to) in &self.ranges {
            if let Some(begin) = start
                && from > begin
            {
                ranges.push((begin, from.previous()));
            }
            start = if to == T::MAX { None } else { Some(to.next()) };
        }
        if let Some(begin) = start {
            ranges.push((begin, T::MAX));
        }
        IntervalSet { ranges }
    }

    pub fn intersection(&self, other: &IntervalSet<T>) -> IntervalSet<T> {
        let mut ranges = Vec::new();
        let (mut left, mut right) = (0, 0);
        while let (Some(&a), Some(&b)) = (self.ranges.get(left), other.ranges.get(right)) {
            let from = a.0.max(b.0);
            let to = a.1.min(b.1);
            if from <= to {
                ranges.push((from, to));
            }
            if a.1 < b.1 {
                left += 1;
            } else {
                right += 1;
            }
        }
        IntervalSet { ranges }
    }

    pub fn difference(&self, other: &IntervalSet<T>) -> IntervalSet<T> {
        if other.is_empty() || self.is_empty() {
            return self.clone();
        }
        self.intersection(&other.complement())
    }

    pub fn intersects(&self, other: &IntervalSet<T>) -> bool {
        let (mut left, mut right) = (0, 0);
        while let (Some(&a), Some(&b)) = (self.ranges.get(left), other.ranges.get(right)) {
            if a.0.max(b.0) <= a.1.min(b.1) {
                return true;
            }
            if a.1 < b.1 {
                left += 1;
            } else {
                right += 1;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::IntervalSet;

    fn set(ranges: &[(u16, u16)]) -> IntervalSet<u16> {
        IntervalSet::from_ranges(ranges.iter().copied())
    }

    #[test]
    fn operations_match_a_bitmap() {
        type Case<'a> = (&'a [(u16, u16)], &'a [(u16, u16)]);
        let cases: &[Case<'_>] = &[
            (&[(1, 5), (7, 9)], &[(3, 8)]),
            (&[(0, 65535)], &[(22, 22)]),
            (&[], &[(10, 20)]),
            (&[(0, 0), (65535, 65535)], &[(1, 65534)]),
            (&[(5, 10), (11, 12)], &[(12, 20)]),
        ];
        for (a, b) in cases {
            let (left, right) = (set(a), set(b));
            let inside = |ranges: &[(u16, u16)], value: u16| ranges.iter().any(|&(from, to)| from <= value && value <= to);
            for value in 0..=u16::MAX {
                let (x, y) = (inside(a, value), inside(b, value));
                assert_eq!(left.union(&right).contains(value), x || y, "union {a:?} {b:?} at {value}");
                assert_eq!(left.intersection(&right).contains(value), x && y, "intersection at {value}");
                assert_eq!(left.difference(&right).contains(value), x && !y, "difference at {value}");
                assert_eq!(left.complement().contains(value), !x, "complement at {value}");
            }
            assert_eq!(left.intersects(&right), !left.intersection(&right).is_empty());
        }
    }

    #[test]
    fn adjacent_ranges_merge_into_one() {
        assert_eq!(set(&[(1, 4), (5, 9), (20, 30), (25, 26)]).ranges(), &[(1, 9), (20, 30)]);
        assert!(set(&[(0, 100), (101, 65535)]).is_full());
    }
}
