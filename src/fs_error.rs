//! A failed file operation said in words an operator acts on — "no such
//! file", "permission denied", "is a directory" — instead of the C library's
//! "No such file or directory (os error 2)", and who collabd runs as, for
//! a permission problem. Knows nothing of which file is which: callers name
//! the file and the setting.

use std::io::{self, ErrorKind};
use std::path::Path;

/// Why `e` happened, in a few lowercase words, without the OS error number.
pub fn reason(e: &io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => "no such file".to_owned(),
        ErrorKind::PermissionDenied => "permission denied".to_owned(),
        ErrorKind::IsADirectory => "is a directory".to_owned(),
        ErrorKind::NotADirectory => "a part of the path is not a directory".to_owned(),
        ErrorKind::ReadOnlyFilesystem => "the file system is read-only".to_owned(),
        ErrorKind::StorageFull => "no space left on the device".to_owned(),
        ErrorKind::InvalidData => "is not UTF-8 text".to_owned(),
        _ => {
            let text = e.to_string();
            let text = match text.rfind(" (os error ") {
                Some(i) => text[..i].to_owned(),
                None => text,
            };
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    }
}

/// The user collabd runs as (its effective user): `user NAME`, or
/// `uid N` when the system has no name for it.
pub fn user() -> String {
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    match user_name(uid) {
        Some(name) => format!("user {name}"),
        None => format!("uid {uid}"),
    }
}

/// The name the system gives `uid`, if any.
pub fn user_name(uid: u32) -> Option<String> {
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r writes only into `pw` and `buf`, which outlive
    // the call; `found` is null or points at `pw`.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut found) };
    if rc != 0 || found.is_null() || pw.pw_name.is_null() {
        return None;
    }
    // SAFETY: pw_name points into `buf`, NUL-terminated by getpwuid_r.
    let name = unsafe { std::ffi::CStr::from_ptr(pw.pw_name) };
    Some(name.to_string_lossy().into_owned())
}

/// Who owns `path` and its mode, as `owned by NAME, mode 0640`.
pub fn owner_and_mode(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    let owner = user_name(m.uid()).unwrap_or_else(|| format!("uid {}", m.uid()));
    Some(format!("owned by {owner}, mode {:04o}", m.mode() & 0o7777))
}

/// Whether this process may create files in `dir` (write and search), as
/// the kernel would decide it for the effective user.
pub fn can_create_in(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    unsafe {
        libc::faccessat(
            libc::AT_FDCWD,
            c.as_ptr(),
            libc::W_OK | libc::X_OK,
            libc::AT_EACCESS,
        ) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_words_without_the_error_number() {
        let missing = std::fs::read_to_string("/nonexistent/collabd.toml").unwrap_err();
        assert_eq!(reason(&missing), "no such file");
        let dir = std::fs::read_to_string("/").unwrap_err();
        assert_eq!(reason(&dir), "is a directory");
        let other = io::Error::from_raw_os_error(libc::ELOOP);
        let said = reason(&other);
        assert!(
            !said.contains("os error") && said.starts_with(char::is_lowercase),
            "{said}"
        );
    }
}
