//! Whether a user name exists, asked of the system's user database through the C
//! library (`getpwnam_r`), so that users from NSS sources beyond /etc/passwd count.
#![allow(unsafe_code)]

use std::ffi::CString;

/// Whether `user` is a user name the system knows, or a number (any uid is valid).
pub(crate) fn user_known(user: &str) -> Option<bool> {
    if user.parse::<u32>().is_ok() {
        return Some(true);
    }
    let name = CString::new(user).ok()?;
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: `passwd` is plain data that getpwnam_r fills in; `buf` outlives the
        // call and its length is passed; `result` is written before being read.
        let (rc, found) = unsafe {
            let mut pwd: libc::passwd = std::mem::zeroed();
            let mut result: *mut libc::passwd = std::ptr::null_mut();
            let rc = libc::getpwnam_r(
                name.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            );
            (rc, !result.is_null())
        };
        match rc {
            0 => return Some(found),
            libc::ERANGE if buf.len() < 1 << 20 => buf.resize(buf.len() * 2, 0),
            // The database could not be asked: do not claim the user is unknown.
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_numbers_are_known_and_nonsense_is_not() {
        assert_eq!(user_known("root"), Some(true));
        assert_eq!(user_known("4242"), Some(true));
        assert_eq!(user_known("no-such-user-pipescope"), Some(false));
    }
}
