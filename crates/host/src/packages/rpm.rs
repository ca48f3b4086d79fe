//! The RPM database. Every backend stores one header blob per package (rpm's documented
//! header structure: `il` index entries of tag, type, offset and count, then `dl` bytes of
//! data); vigil reads the blobs from the SQLite database of current releases
//! (`rpmdb.sqlite`, table `Packages`) or from the BerkeleyDB hash file `Packages` of older
//! ones (RHEL 7/8, Amazon Linux 2), walking the hash pages and overflow chains itself, and
//! parses the headers itself: no librpm, no libdb.

use super::{Manager, Package, PackageProblem};
use crate::fsroot::HostRoot;

const SQLITE_PATHS: [&str; 2] = ["/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite"];
const BDB_PATHS: [&str; 2] = ["/var/lib/rpm/Packages", "/usr/lib/sysimage/rpm/Packages"];

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm's own limits on a header (`hdrchkTags`, `hdrchkData`).
const MAX_INDEX_ENTRIES: usize = 0xffff;
const MAX_DATA: usize = 256 << 20;

pub fn read(host: &HostRoot, packages: &mut Vec<Package>, problems: &mut Vec<PackageProblem>) {
    // One database per system: the first present wins (a converted system may keep both).
    for path in SQLITE_PATHS {
        if host.metadata(path).is_ok_and(|metadata| metadata.is_file()) {
            let shown = host.display(path);
            match host.resolve(path).map_err(|error| error.to_string()).and_then(|real| read_sqlite(&real)) {
                Ok(blobs) => add_blobs(&shown, blobs, packages, problems),
                Err(message) => problems.push(PackageProblem { path: shown, message }),
            }
            return;
        }
    }
    for path in BDB_PATHS {
        if host.metadata(path).is_ok_and(|metadata| metadata.is_file()) {
            let shown = host.display(path);
            match host.read(path).map_err(|error| format!("cannot read: {error}")).and_then(|bytes| bdb_hash_values(&bytes)) {
                Ok(blobs) => add_blobs(&shown, blobs, packages, problems),
                Err(message) => problems.push(PackageProblem { path: shown, message }),
            }
            return;
        }
    }
}

/// Parses each blob; a blob that is no header is a problem naming its record.
fn add_blobs(path: &str, blobs: Vec<(String, Vec<u8>)>, packages: &mut Vec<Package>, problems: &mut Vec<PackageProblem>) {
    for (record, blob) in blobs {
        match parse_header(&blob) {
            Ok(Some(package)) => packages.push(package),
            Ok(None) => {}
            Err(message) => problems.push(PackageProblem { path: path.to_string(), message: format!("{record}: {message}") }),
        }
    }
}

/// The header blobs of `rpmdb.sqlite`, opened read-only and immutable (so nothing is written
/// next to an image's database, not even a journal).
fn read_sqlite(path: &std::path::Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    use rusqlite::OpenFlags;
    let encoded: String = path
        .to_string_lossy()
        .bytes()
        .map(|byte| match byte {
            b'%' | b'?' | b'#' => format!("%{byte:02X}"),
            byte => (byte as char).to_string(),
        })
        .collect();
    let uri = format!("file:{encoded}?immutable=1");
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = rusqlite::Connection::open_with_flags(&uri, flags).map_err(|error| format!("cannot open the RPM database: {error}"))?;
    let mut statement = connection.prepare("SELECT hnum, blob FROM Packages").map_err(|error| format!("not an RPM SQLite database: {error}"))?;
    let rows = statement
        .query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?)))
        .map_err(|error| format!("cannot read the Packages table: {error}"))?;
    let mut blobs = Vec::new();
    for row in rows {
        let (hnum, blob) = row.map_err(|error| format!("cannot read the Packages table: {error}"))?;
        blobs.push((format!("record {hnum}"), blob));
    }
    Ok(blobs)
}

fn be_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    bytes.get(offset..offset + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Parses a header blob into a package; `Ok(None)` for rpm's `gpg-pubkey` pseudo-packages.
pub fn parse_header(blob: &[u8]) -> Result<Option<Package>, String> {
    let index_length = be_u32(blob, 0).ok_or("shorter than a header")? as usize;
    let data_length = be_u32(blob, 4).ok_or("shorter than a header")? as usize;
    if index_length == 0 || index_length > MAX_INDEX_ENTRIES || data_length > MAX_DATA {
        return Err(format!("not a header ({index_length} index entries, {data_length} data bytes)"));
    }
    let data_start = 8 + index_length * 16;
    let data =
        blob.get(data_start..data_start + data_length).ok_or_else(|| format!("header truncated: {} bytes, {} needed", blob.len(), data_start + data_length))?;
    let mut name = None;
    let mut version = None;
    let mut release = None;
    let mut epoch = None;
    let mut arch = None;
    let mut source_rpm = None;
    for entry in 0..index_length {
        let at = 8 + entry * 16;
        let (Some(tag), Some(kind), Some(offset), Some(count)) = (be_u32(blob, at), be_u32(blob, at + 4), be_u32(blob, at + 8), be_u32(blob, at + 12)) else {
            return Err("index truncated".to_string());
        };
        let offset = offset as usize;
        if offset > data.len() {
            return Err(format!("tag {tag}: offset {offset} beyond the data ({} bytes)", data.len()));
        }
        let string = || -> Result<String, String> {
            if !matches!(kind, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
                return Err(format!("tag {tag}: type {kind} where a string was expected"));
            }
            let rest = &data[offset..];
            let end = rest.iter().position(|&byte| byte == 0).ok_or_else(|| format!("tag {tag}: string not terminated"))?;
            Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
        };
        match tag {
            TAG_NAME => name = Some(string()?),
            TAG_VERSION => version = Some(string()?),
            TAG_RELEASE => release = Some(string()?),
            TAG_ARCH => arch = Some(string()?),
            TAG_SOURCERPM => source_rpm = Some(string()?),
            TAG_EPOCH => {
                if kind != TYPE_INT32 || count < 1 {
                    return Err(format!("tag {tag}: epoch of type {kind}"));
                }
                epoch = Some(be_u32(data, offset).ok_or("epoch beyond the data")?);
            }
            _ => {}
        }
    }
    let name = name.ok_or("no NAME tag")?;
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let version = version.ok_or_else(|| format!("package `{name}`: no VERSION tag"))?;
    let release = release.ok_or_else(|| format!("package `{name}`: no RELEASE tag"))?;
    let evr = match epoch {
        Some(epoch) if epoch > 0 => format!("{epoch}:{version}-{release}"),
        _ => format!("{version}-{release}"),
    };
    let source = source_rpm.as_deref().and_then(source_name).filter(|source| *source != name);
    Ok(Some(Package { name, version: evr, arch: arch.unwrap_or_default(), manager: Manager::Rpm, source, source_version: None }))
}

/// `openssl-3.0.7-27.el9.src.rpm` → `openssl`.
fn source_name(source_rpm: &str) -> Option<String> {
    let stem = source_rpm.strip_suffix(".src.rpm").or_else(|| source_rpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, _release) = stem.rsplit_once('-')?;
    let (name, _version) = rest.rsplit_once('-')?;
    Some(name.to_string())
}

// ---------------------------------------------------------------------------------------
// BerkeleyDB hash files

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;

/// The data items (values, not keys) of a BerkeleyDB hash database, from its pages: inline
/// items and items on overflow page chains. Either byte order.
pub fn bdb_hash_values(file: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let magic_le = file.get(12..16).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok_or("shorter than a BerkeleyDB metadata page")?;
    let magic_be = file.get(12..16).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok_or("shorter than a BerkeleyDB metadata page")?;
    let little = if magic_le == HASH_MAGIC {
        true
    } else if magic_be == HASH_MAGIC {
        false
    } else {
        return Err(format!("not a BerkeleyDB hash database (magic {magic_le:#x})"));
    };
    let u32_at = |offset: usize| -> Option<u32> {
        file.get(offset..offset + 4).map(|b| if little { u32::from_le_bytes([b[0], b[1], b[2], b[3]]) } else { u32::from_be_bytes([b[0], b[1], b[2], b[3]]) })
    };
    let u16_at = |offset: usize| -> Option<u16> {
        file.get(offset..offset + 2).map(|b| if little { u16::from_le_bytes([b[0], b[1]]) } else { u16::from_be_bytes([b[0], b[1]]) })
    };
    let page_size = u32_at(20).ok_or("no page size")? as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("page size {page_size} is not a BerkeleyDB page size"));
    }
    let pages = file.len() / page_size;
    let mut values = Vec::new();
    for page in 1..pages {
        let base = page * page_size;
        let kind = file[base + 25];
        if kind != P_HASH && kind != P_HASH_UNSORTED {
            continue;
        }
        let entries = u16_at(base + 20).ok_or("page header truncated")? as usize;
        // Items alternate key, data; data items are the odd ones.
        for item in (1..entries).step_by(2) {
            let offset = u16_at(base + PAGE_HEADER + item * 2).ok_or("page index truncated")? as usize;
            let end = if item == 0 { page_size } else { u16_at(base + PAGE_HEADER + (item - 1) * 2).ok_or("page index truncated")? as usize };
            if offset >= page_size || end > page_size || offset >= end {
                return Err(format!("page {page}: item {item} has offsets {offset}..{end}"));
            }
            let record = format!("page {page} item {item}");
            match file[base + offset] {
                H_KEYDATA => values.push((record, file[base + offset + 1..base + end].to_vec())),
                H_OFFPAGE => {
                    let first = u32_at(base + offset + 4).ok_or("overflow reference truncated")? as usize;
                    let total = u32_at(base + offset + 8).ok_or("overflow reference truncated")? as usize;
                    let mut value = Vec::with_capacity(total.min(MAX_DATA));
                    let mut next = first;
                    let mut hops = 0;
                    while next != 0 && value.len() < total {
                        hops += 1;
                        if next >= pages || hops > pages {
                            return Err(format!("{record}: overflow chain leaves the file at page {next}"));
                        }
                        let overflow = next * page_size;
                        if file[overflow + 25] != P_OVERFLOW {
                            return Err(format!("{record}: page {next} is not an overflow page"));
                        }
                        let length = u16_at(overflow + 22).ok_or("overflow header truncated")? as usize;
                        let chunk = file
                            .get(overflow + PAGE_HEADER..overflow + PAGE_HEADER + length)
                            .ok_or_else(|| format!("{record}: overflow page {next} truncated"))?;
                        value.extend_from_slice(chunk);
                        next = u32_at(overflow + 16).ok_or("overflow header truncated")? as usize;
                    }
                    value.truncate(total);
                    values.push((record, value));
                }
                _ => {} // duplicates are not used by rpm's Packages database
            }
        }
    }
    // rpm keeps a 4-byte counter under key 0: it is no package.
    values.retain(|(_, value)| value.len() > 8);
    Ok(values)
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builds header blobs in rpm's documented layout, for tests.

    /// A header blob with string tags and an optional epoch.
    pub fn header(tags: &[(u32, &str)], epoch: Option<u32>) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        if let Some(epoch) = epoch {
            index.push((super::TAG_EPOCH, super::TYPE_INT32, data.len() as u32, 1u32));
            data.extend_from_slice(&epoch.to_be_bytes());
        }
        for (tag, value) in tags {
            index.push((*tag, super::TYPE_STRING, data.len() as u32, 1));
            data.extend_from_slice(value.as_bytes());
            data.push(0);
        }
        let mut blob = Vec::new();
        blob.extend_from_slice(&(index.len() as u32).to_be_bytes());
        blob.extend_from_slice(&(data.len() as u32).to_be_bytes());
        for (tag, kind, offset, count) in index {
            for value in [tag, kind, offset, count] {
                blob.extend_from_slice(&value.to_be_bytes());
            }
        }
        blob.extend_from_slice(&data);
        blob
    }

    pub fn package(name: &str, version: &str, release: &str, arch: &str, epoch: Option<u32>) -> Vec<u8> {
        let source = format!("{name}-{version}-{release}.src.rpm");
        header(
            &[(super::TAG_NAME, name), (super::TAG_VERSION, version), (super::TAG_RELEASE, release), (super::TAG_ARCH, arch), (super::TAG_SOURCERPM, &source)],
            epoch,
        )
    }
}
