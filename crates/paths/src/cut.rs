//! The minimal cut: the fewest changes that break every path. Each path is the set of changes
//! any one of which breaks it, so a cut is a hitting set of those sets (NP-hard in general).
//! Small instances are solved exactly (iterative deepening over "pick a change of the first
//! unbroken path", which finds a smallest hitting set); large ones, or ones whose search
//! exceeds a node budget, with the greedy set-cover approximation (repeatedly the change that
//! breaks the most unbroken paths), whose size is at most H(d) = 1 + 1/2 + ... + 1/d times the
//! minimum, d being the most paths one change breaks. A lower bound (paths that share no
//! change, each needing its own) is reported with it.

/// How the cut was found.
#[derive(Debug, Clone, PartialEq)]
pub enum CutMethod {
    /// A smallest cut.
    Exact,
    /// The greedy approximation: no larger than `factor` × the minimum, and the minimum is at
    /// least `lower_bound`.
    Greedy { lower_bound: usize, factor: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    /// Change ids, ascending.
    pub changes: Vec<usize>,
    pub method: CutMethod,
}

/// Search nodes the exact search may visit before falling back to the greedy cut.
pub const EXACT_BUDGET: usize = 200_000;
/// Distinct paths (after dropping those that contain another) above which the cut is greedy.
pub const EXACT_SETS: usize = 4_000;

/// A cut of `paths` (each the ids of the changes that break it). Ids are preferences: among
/// cuts of the same size the search prefers lower ids first, so callers number the changes
/// they would rather make first. Paths with no change cannot be cut and are skipped.
pub fn minimal_cut(paths: &[Vec<usize>], budget: usize) -> Cut {
    let mut sets: Vec<Vec<usize>> = paths
        .iter()
        .filter(|set| !set.is_empty())
        .map(|set| {
            let mut set = set.clone();
            set.sort_unstable();
            set.dedup();
            set
        })
        .collect();
    sets.sort();
    sets.dedup();
    // A set that contains another is broken whenever the smaller one is.
    sets.sort_by_key(Vec::len);
    if sets.len() <= EXACT_SETS {
        let mut kept: Vec<Vec<usize>> = Vec::new();
        for set in sets {
            if !kept.iter().any(|smaller| is_subset(smaller, &set)) {
                kept.push(set);
            }
        }
        sets = kept;
    }
    if sets.is_empty() {
        return Cut { changes: Vec::new(), method: CutMethod::Exact };
    }
    let lower_bound = disjoint_lower_bound(&sets);
    if sets.len() > EXACT_SETS {
        return greedy(&sets, lower_bound);
    }
    let mut nodes = 0usize;
    for size in lower_bound..=sets.len() {
        let mut chosen = Vec::new();
        match search(&sets, size, &mut chosen, &mut nodes, budget) {
            Search::Found => {
                chosen.sort_unstable();
                return Cut { changes: chosen, method: CutMethod::Exact };
            }
            Search::OverBudget => break,
            Search::None => {}
        }
    }
    greedy(&sets, lower_bound)
}

fn is_subset(small: &[usize], large: &[usize]) -> bool {
    small.iter().all(|item| large.binary_search(item).is_ok())
}

enum Search {
    Found,
    None,
    OverBudget,
}

/// Whether a cut of at most `left` more changes exists, extending `chosen`.
fn search(sets: &[Vec<usize>], left: usize, chosen: &mut Vec<usize>, nodes: &mut usize, budget: usize) -> Search {
    *nodes += 1;
    if *nodes > budget {
        return Search::OverBudget;
    }
    let Some(unbroken) = sets.iter().find(|set| !set.iter().any(|change| chosen.contains(change))) else { return Search::Found };
    if left == 0 {
        return Search::None;
    }
    for &change in unbroken {
        chosen.push(change);
        match search(sets, left - 1, chosen, nodes, budget) {
            Search::Found => return Search::Found,
            Search::OverBudget => return Search::OverBudget,
            Search::None => {}
        }
        chosen.pop();
    }
    Search::None
}

/// Sets sharing no change with each other, taken smallest first: each needs its own change.
fn disjoint_lower_bound(sets: &[Vec<usize>]) -> usize {
    let mut used: std::collections::HashSet<usize> = std::collections::HashSet::new();
    let mut count = 0;
    for set in sets {
        if set.iter().all(|change| !used.contains(change)) {
            used.extend(set.iter().copied());
            count += 1;
        }
    }
    count
}

fn greedy(sets: &[Vec<usize>], lower_bound: usize) -> Cut {
    // Inverted index: change → the sets it breaks; a lazy max-heap of (unbroken count, change).
    let mut breaks: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
    for (position, set) in sets.iter().enumerate() {
        for &change in set {
            breaks.entry(change).or_default().push(position);
        }
    }
    let most = breaks.values().map(Vec::len).max().unwrap_or(1);
    let factor: f64 = (1..=most).map(|n| 1.0 / n as f64).sum();
    let mut counts: std::collections::HashMap<usize, usize> = breaks.iter().map(|(change, list)| (*change, list.len())).collect();
    // Ties go to the lowest id (the preferred change): `Reverse(change)` sorts it first.
    let mut heap: std::collections::BinaryHeap<(usize, std::cmp::Reverse<usize>)> =
        counts.iter().map(|(change, count)| (*count, std::cmp::Reverse(*change))).collect();
    let mut broken = vec![false; sets.len()];
    let mut chosen = Vec::new();
    while let Some((count, std::cmp::Reverse(change))) = heap.pop() {
        let current = counts.get(&change).copied().unwrap_or(0);
        if current == 0 {
            continue;
        }
        if current != count {
            heap.push((current, std::cmp::Reverse(change)));
            continue;
        }
        chosen.push(change);
        for &position in breaks.get(&change).map(Vec::as_slice).unwrap_or(&[]) {
            if broken.get(position).copied().unwrap_or(true) {
                continue;
            }
            if let Some(flag) = broken.get_mut(position) {
                *flag = true;
            }
            for other in sets.get(position).map(Vec::as_slice).unwrap_or(&[]) {
                if let Some(count) = counts.get_mut(other) {
                    *count = count.saturating_sub(1);
                }
            }
        }
    }
    chosen.sort_unstable();
    Cut { changes: chosen, method: CutMethod::Greedy { lower_bound, factor } }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(paths: &[&[usize]], expected: &[usize]) {
        let paths: Vec<Vec<usize>> = paths.iter().map(|path| path.to_vec()).collect();
        let cut = minimal_cut(&paths, EXACT_BUDGET);
        assert_eq!(cut.changes, expected, "{paths:?}");
        assert_eq!(cut.method, CutMethod::Exact);
    }

    #[test]
    fn the_exact_cut_is_smallest_and_prefers_lower_ids_among_equals() {
        check(&[], &[]);
        check(&[&[3, 1, 2]], &[1]);
        check(&[&[0, 5], &[1, 5], &[2, 5]], &[5]);
        check(&[&[0, 1], &[0, 2], &[3, 4]], &[0, 3]);
        // Three changes are needed; among the smallest cuts the search meets the lower ids first.
        check(&[&[5, 0], &[5, 1], &[5, 2], &[0, 3], &[1, 2, 4], &[3, 4]], &[0, 4, 5]);
    }

    #[test]
    fn over_budget_the_greedy_cut_still_breaks_every_path_and_states_its_bound() {
        let paths: Vec<Vec<usize>> = (0..30).map(|index| vec![index, 100 + index % 7, 200 + index % 5]).collect();
        let cut = minimal_cut(&paths, 10);
        assert!(paths.iter().all(|path| path.iter().any(|change| cut.changes.contains(change))));
        match cut.method {
            CutMethod::Greedy { lower_bound, factor } => {
                assert!(lower_bound >= 1);
                assert!(factor >= 1.0);
            }
            CutMethod::Exact => panic!("expected the greedy cut"),
        }
    }
}
