//! Network namespaces for the tests that change a firewall or run a server (never the
//! machine's own): a namespace made for one test and deleted when dropped, a veth pair into
//! it, a real sshd (Debian's openssh-server) listening inside, and the failed logins that
//! active response counts.
//!
//! Tests that need root, `ip`, `nft` or sshd call [`host_tools`] first: without them the test
//! says it skipped, except under `VIGIL_REQUIRE_HOST_TOOLS=1` (scripts/test.sh and CI), where
//! their absence fails it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Whether the programs a test needs are installed and it runs as root; when not, it skips
/// (saying so) unless `VIGIL_REQUIRE_HOST_TOOLS=1`, where it fails naming what is missing.
pub fn host_tools(test: &str, programs: &[&str]) -> bool {
    let mut missing: Vec<String> = programs.iter().filter(|program| which(program).is_none()).map(|program| program.to_string()).collect();
    let uid = Command::new("id").arg("-u").output().map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string()).unwrap_or_default();
    if uid != "0" {
        missing.push("root".to_string());
    }
    if missing.is_empty() {
        return true;
    }
    let message = format!("{test}: needs {} (Debian packages: aide nftables iproute2 openssh-server openssh-client)", missing.join(", "));
    assert!(std::env::var("VIGIL_REQUIRE_HOST_TOOLS").as_deref() != Ok("1"), "{message}, and VIGIL_REQUIRE_HOST_TOOLS=1");
    eprintln!("skipped: {message}");
    false
}

/// Where a program is installed.
pub fn which(program: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].iter().map(|directory| Path::new(directory).join(program)).find(|path| path.exists())
}

static NAMESPACES: AtomicUsize = AtomicUsize::new(0);

/// A network namespace (with its loopback up), deleted with everything in it when dropped.
pub struct Netns {
    pub name: String,
    links: Vec<String>,
}

impl Netns {
    pub fn new() -> Netns {
        let name = format!("vigil-k{}-{}", std::process::id(), NAMESPACES.fetch_add(1, Ordering::SeqCst));
        let status = Command::new("ip").args(["netns", "add", &name]).status().unwrap();
        assert!(status.success(), "ip netns add {name}");
        let netns = Netns { name, links: Vec::new() };
        netns.exec(&["ip", "link", "set", "lo", "up"]);
        netns
    }

    /// Runs a command inside the namespace; its standard output (a failure fails the test).
    pub fn exec(&self, arguments: &[&str]) -> String {
        let output = Command::new("ip").args(["netns", "exec", &self.name]).args(arguments).output().unwrap();
        assert!(output.status.success(), "{arguments:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs an nft script inside the namespace.
    pub fn nft(&self, script: &str) {
        use std::io::Write as _;
        let mut child = Command::new("ip").args(["netns", "exec", &self.name, "nft", "-f", "-"]).stdin(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success(), "nft -f: {script}");
    }

    /// `nft list ...` inside the namespace (empty when the object does not exist).
    pub fn nft_list(&self, arguments: &[&str]) -> String {
        let output = Command::new("ip").args(["netns", "exec", &self.name, "nft", "list"]).args(arguments).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// A veth pair from the machine into the namespace, with a /24 of its own: returns (the
    /// machine's address, the namespace's address). The machine's end is deleted on drop.
    pub fn veth(&mut self) -> (String, String) {
        let index = NAMESPACES.fetch_add(1, Ordering::SeqCst);
        let subnet = 10 + (std::process::id() as usize * 7 + index * 13) % 240;
        let tag = format!("{}{}", std::process::id() % 10000, index % 100);
        let (outside, inside) = (format!("vko{tag}"), format!("vki{tag}"));
        let (host, guest) = (format!("10.204.{subnet}.1"), format!("10.204.{subnet}.2"));
        let ip = |arguments: &[&str]| assert!(Command::new("ip").args(arguments).status().unwrap().success(), "ip {arguments:?}");
        ip(&["link", "add", &outside, "type", "veth", "peer", "name", &inside]);
        self.links.push(outside.clone());
        ip(&["link", "set", &inside, "netns", &self.name]);
        ip(&["addr", "add", &format!("{host}/24"), "dev", &outside]);
        ip(&["link", "set", &outside, "up"]);
        self.exec(&["ip", "addr", "add", &format!("{guest}/24"), "dev", &inside]);
        self.exec(&["ip", "link", "set", &inside, "up"]);
        (host, guest)
    }
}

impl Default for Netns {
    fn default() -> Self {
        Netns::new()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for link in &self.links {
            let _ = Command::new("ip").args(["link", "del", link]).status();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

/// A child process killed when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real sshd listening at `address:22` inside a namespace, logging to `log` (its standard
/// error: lines without a syslog header, program `sshd`); only public keys are accepted and no
/// key is authorized, so every login fails.
pub struct Sshd {
    pub log: PathBuf,
    /// A client key the server does not know.
    pub client_key: PathBuf,
    pub address: String,
    _child: Killed,
}

impl Sshd {
    pub fn start(netns: &Netns, address: &str, work: &Path) -> Sshd {
        let host_key = work.join("host_key");
        let client_key = work.join("client_key");
        for key in [&host_key, &client_key] {
            assert!(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(key).status().unwrap().success());
        }
        let log = work.join("sshd.log");
        let config = work.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "ListenAddress {address}\nHostKey {}\nPidFile {}\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nLogLevel INFO\nStrictModes no\nMaxStartups 100\n",
                host_key.display(),
                work.join("sshd.pid").display()
            ),
        )
        .unwrap();
        // sshd's privilege separation directory (Debian's package creates it at boot).
        std::fs::create_dir_all("/run/sshd").unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &netns.name, "/usr/sbin/sshd", "-D", "-e", "-f"])
            .arg(&config)
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let sshd = Sshd { log, client_key, address: address.to_string(), _child: Killed(child) };
        assert!(wait_for(Duration::from_secs(20), || ssh_banner(address)), "sshd did not start: {}", sshd.log_text());
        sshd
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Failed logins (an unknown user with a key the server does not know) until `done` holds,
    /// at most `attempts`. A connection cut by a block mid-handshake would hang until the block
    /// expires, so an attempt still running when `done` holds is killed.
    pub fn fail_logins_until(&self, attempts: usize, mut done: impl FnMut() -> bool) {
        for _ in 0..attempts {
            if done() {
                return;
            }
            let mut attempt = Command::new("ssh")
                .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=3", "-i"])
                .arg(&self.client_key)
                .arg(format!("intruder@{}", self.address))
                .arg("true")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let started = Instant::now();
            while attempt.try_wait().unwrap().is_none() {
                if done() || started.elapsed() > Duration::from_secs(30) {
                    let _ = attempt.kill();
                    let _ = attempt.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Whether a TCP connection from the machine to `address:22` gets sshd's banner.
pub fn ssh_banner(address: &str) -> bool {
    use std::io::Read as _;
    let Ok(socket) = format!("{address}:22").parse() else { return false };
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&socket, Duration::from_millis(800)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(800)));
    let mut banner = [0u8; 4];
    stream.read_exact(&mut banner).is_ok() && &banner == b"SSH-"
}

/// Polls `condition` every 200 ms until it holds or `limit` passes.
pub fn wait_for(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    condition()
}
