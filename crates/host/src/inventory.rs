//! The `inventory` host module: what the host is (OS release, kernel, hostname, uptime) and
//! what listens on it (TCP and UDP sockets in the listening state, with the owning process
//! when /proc tells). Read from `/etc/os-release` (or `/usr/lib/os-release`) and `/proc`
//! under the run's root. It emits one `snapshot` event when the host's inventory changed since
//! the last one it emitted (uptime aside), so an idle host sends nothing; the id is the
//! content's hash.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::json;

use crate::module::{Module, ModuleError, Run};

/// A listening socket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Listener {
    pub protocol: &'static str,
    pub address: String,
    pub port: u16,
    /// The owning process's name (`/proc/PID/comm`), when found.
    pub process: Option<String>,
    pub pid: Option<u32>,
}

/// The host's inventory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostInventory {
    pub os: BTreeMap<String, String>,
    pub kernel: Option<String>,
    pub hostname: Option<String>,
    pub uptime_seconds: Option<u64>,
    pub listening: Vec<Listener>,
    /// What could not be read, with the reason (never silently empty).
    pub errors: Vec<String>,
}

/// Parses `os-release` (KEY=value, values optionally quoted).
pub fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.trim().split_once('='))
        .filter(|(key, _)| !key.starts_with('#') && !key.is_empty())
        .map(|(key, value)| (key.to_string(), value.trim().trim_matches('"').trim_matches('\'').to_string()))
        .collect()
}

/// Listening sockets of one `/proc/net/{tcp,tcp6,udp,udp6}` table: (address, port, inode).
pub fn parse_proc_net(text: &str, protocol: &'static str) -> Vec<(String, u16, u64)> {
    let ipv6 = protocol.ends_with('6');
    let tcp = protocol.starts_with("tcp");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (local, remote, state, inode) = (fields.get(1)?, fields.get(2)?, fields.get(3)?, fields.get(9)?);
            // TCP: 0A is LISTEN. UDP has no listen state: a bound socket with no peer is one.
            let listening =
                if tcp { *state == "0A" } else { remote.split(':').next().is_some_and(|address| address.bytes().all(|byte| byte == b'0')) && *state == "07" };
            if !listening {
                return None;
            }
            let (address, port) = local.split_once(':')?;
            let port = u16::from_str_radix(port, 16).ok()?;
            Some((decode_address(address, ipv6)?, port, inode.parse().ok()?))
        })
        .collect()
}

/// /proc/net addresses are the kernel's 32-bit words in hex, each in host (little-endian) order.
fn decode_address(hex: &str, ipv6: bool) -> Option<String> {
    let words: Vec<u32> = (0..hex.len() / 8).map(|index| u32::from_str_radix(hex.get(index * 8..index * 8 + 8)?, 16).ok()).collect::<Option<_>>()?;
    let bytes: Vec<u8> = words.iter().flat_map(|word| word.to_le_bytes()).collect();
    if ipv6 {
        let array: [u8; 16] = bytes.try_into().ok()?;
        Some(std::net::Ipv6Addr::from(array).to_string())
    } else {
        let array: [u8; 4] = bytes.try_into().ok()?;
        Some(std::net::Ipv4Addr::from(array).to_string())
    }
}

/// Reads the inventory under the run's root.
pub fn read(run: &mut Run<'_>) -> HostInventory {
    let mut errors = Vec::new();
    let os = match run.read_to_string("/etc/os-release").or_else(|_| run.read_to_string("/usr/lib/os-release")) {
        Ok(text) => parse_os_release(&text),
        Err(error) => {
            errors.push(error.to_string());
            BTreeMap::new()
        }
    };
    let mut one_line = |run: &mut Run<'_>, path: &str| match run.read_to_string(path) {
        Ok(text) => Some(text.trim().to_string()),
        Err(error) => {
            errors.push(error.to_string());
            None
        }
    };
    let kernel = one_line(run, "/proc/sys/kernel/osrelease");
    let hostname = one_line(run, "/proc/sys/kernel/hostname");
    let uptime_seconds = one_line(run, "/proc/uptime").and_then(|text| text.split_whitespace().next()?.split('.').next()?.parse().ok());
    let mut sockets = Vec::new();
    for protocol in ["tcp", "tcp6", "udp", "udp6"] {
        match run.read_to_string(&format!("/proc/net/{protocol}")) {
            Ok(text) => sockets.extend(parse_proc_net(&text, protocol).into_iter().map(|(address, port, inode)| (protocol, address, port, inode))),
            // A kernel without IPv6 has no tcp6/udp6: not an error.
            Err(_) if protocol.ends_with('6') => {}
            Err(error) => errors.push(error.to_string()),
        }
        run.budget.pace();
    }
    let inodes: BTreeSet<u64> = sockets.iter().map(|(_, _, _, inode)| *inode).collect();
    let owners = socket_owners(run, &inodes);
    let mut listening: Vec<Listener> = sockets
        .into_iter()
        .map(|(protocol, address, port, inode)| {
            let owner = owners.get(&inode);
            Listener { protocol, address, port, process: owner.map(|(_, name)| name.clone()), pid: owner.map(|(pid, _)| *pid) }
        })
        .collect();
    listening.sort();
    listening.dedup();
    HostInventory { os, kernel, hostname, uptime_seconds, listening, errors }
}

/// Which process holds each socket inode: walks `/proc/PID/fd` (needs root for other users'
/// processes; unknown owners stay unknown).
fn socket_owners(run: &mut Run<'_>, inodes: &BTreeSet<u64>) -> HashMap<u64, (u32, String)> {
    let mut owners = HashMap::new();
    if inodes.is_empty() {
        return owners;
    }
    let Ok(processes) = std::fs::read_dir(run.host_path("/proc")) else { return owners };
    for process in processes.flatten() {
        let Some(pid) = process.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        let Ok(descriptors) = std::fs::read_dir(process.path().join("fd")) else { continue };
        for descriptor in descriptors.flatten() {
            let Ok(target) = std::fs::read_link(descriptor.path()) else { continue };
            let Some(inode) = target.to_str().and_then(|text| text.strip_prefix("socket:[")?.strip_suffix(']')?.parse::<u64>().ok()) else { continue };
            if inodes.contains(&inode) && !owners.contains_key(&inode) {
                let name = std::fs::read_to_string(process.path().join("comm")).map(|name| name.trim().to_string()).unwrap_or_default();
                owners.insert(inode, (pid, name));
            }
        }
        run.budget.charge_io(512);
        run.budget.pace();
        if run.should_stop() {
            break;
        }
    }
    owners
}

/// The module: emits a `snapshot` when the inventory (uptime aside) changed.
#[derive(Debug, Default)]
pub struct Inventory {
    last: Option<String>,
}

const LAST_FILE: &str = "last-snapshot-id";

impl Module for Inventory {
    fn name(&self) -> &'static str {
        "inventory"
    }

    fn run(&mut self, run: &mut Run<'_>) -> Result<(), ModuleError> {
        if self.last.is_none() {
            self.last = std::fs::read_to_string(run.state_dir.join(LAST_FILE)).ok().map(|text| text.trim().to_string());
        }
        let inventory = read(run);
        let mut stable = serde_json::to_value(&inventory).map_err(|error| ModuleError::Other(error.to_string()))?;
        if let Some(object) = stable.as_object_mut() {
            object.remove("uptime_seconds");
        }
        let id = format!("inventory-{:016x}", fnv1a(stable.to_string().as_bytes()));
        if self.last.as_deref() == Some(id.as_str()) {
            return Ok(());
        }
        run.emit("snapshot", id.clone(), json!(inventory));
        std::fs::write(run.state_dir.join(LAST_FILE), &id).map_err(|error| ModuleError::Read { path: LAST_FILE.into(), reason: error.to_string() })?;
        self.last = Some(id);
        Ok(())
    }
}

/// FNV-1a, 64 bits: a stable content id (not a security boundary).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20913 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0
   2: 0A00000A:0016 0B00000A:D431 01 00000000:00000000 02:000A7C4A 00000000     0        0 40000 4 0000000000000000 20 4 30 10 -1
";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 100 0 0 10 0
";
    const UDP: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 777 2 0000000000000000 0
  101: 0A00000A:A000 0202000A:0035 01 00000000:00000000 00:00000000 00000000     0        0 778 2 0000000000000000 0
";

    #[test]
    fn proc_net_tables_give_listening_sockets_only() {
        assert_eq!(parse_proc_net(TCP, "tcp"), vec![("0.0.0.0".to_string(), 22, 20913), ("127.0.0.1".to_string(), 8080, 31337)]);
        assert_eq!(parse_proc_net(TCP6, "tcp6"), vec![("::1".to_string(), 631, 555)]);
        assert_eq!(parse_proc_net(UDP, "udp"), vec![("0.0.0.0".to_string(), 68, 777)]);
        assert_eq!(parse_proc_net("header only\n", "tcp"), vec![]);
        assert_eq!(parse_proc_net("h\n 0: zz:yy", "tcp"), vec![], "a garbled line is skipped, not a panic");
    }

    #[test]
    fn os_release_values_are_unquoted() {
        let os = parse_os_release("NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n# comment\n\n");
        assert_eq!(os.get("NAME").map(String::as_str), Some("Debian GNU/Linux"));
        assert_eq!(os.get("VERSION_ID").map(String::as_str), Some("12"));
        assert_eq!(os.len(), 3);
    }

    fn tree() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let full = root.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        };
        write("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
        write("proc/sys/kernel/osrelease", "6.1.0-test\n");
        write("proc/sys/kernel/hostname", "web-1\n");
        write("proc/uptime", "1234.56 100.00\n");
        write("proc/net/tcp", TCP);
        write("proc/net/udp", UDP);
        root
    }

    #[test]
    fn the_module_emits_a_snapshot_only_when_the_inventory_changed() {
        let root = tree();
        let state = tempfile::tempdir().unwrap();
        let settings = vigil_fleet::ModuleSettings::from_map(&serde_json::Map::new());
        let stop = AtomicBool::new(false);
        let mut module = Inventory::default();
        let mut run = Run::new(&settings, state.path(), root.path(), &stop);
        module.run(&mut run).unwrap();
        let first = run.take_emitted();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].payload["hostname"], "web-1");
        assert_eq!(first[0].payload["listening"][0]["port"], 22);
        assert_eq!(first[0].payload["errors"], json!([]), "tcp6/udp6 absent is not an error");
        std::fs::write(root.path().join("proc/uptime"), "99999.0 1.0\n").unwrap();
        module.run(&mut run).unwrap();
        assert!(run.take_emitted().is_empty(), "uptime alone is not a change");
        let mut restarted = Inventory::default();
        restarted.run(&mut run).unwrap();
        assert!(run.take_emitted().is_empty(), "the last id survives a restart");
        std::fs::write(root.path().join("proc/sys/kernel/hostname"), "web-2\n").unwrap();
        module.run(&mut run).unwrap();
        let second = run.take_emitted();
        assert_eq!(second.len(), 1);
        assert_ne!(second[0].id, first[0].id);
        std::fs::remove_file(root.path().join("etc/os-release")).unwrap();
        module.run(&mut run).unwrap();
        let errors = run.take_emitted()[0].payload["errors"].to_string();
        assert!(errors.contains("os-release"), "an unreadable file is named: {errors}");
    }
}
