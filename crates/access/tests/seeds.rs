//! The answers the issue promises, checked through the public API.

use pipescope_access::{Group, decode, encode, lookup_type, map_generic};

#[test]
fn pipe_read_end_0x120189_file() {
    let d = decode(0x120189, lookup_type("file"));
    let names: Vec<_> = d.names().collect();
    assert_eq!(
        names,
        [
            "FILE_READ_DATA",
            "FILE_READ_EA",
            "FILE_READ_ATTRIBUTES",
            "FILE_WRITE_ATTRIBUTES",
            "READ_CONTROL",
            "SYNCHRONIZE"
        ]
    );
    assert_eq!(d.compact, ["FILE_GENERIC_READ", "FILE_WRITE_ATTRIBUTES"]);
    assert_eq!(d.unknown, 0);
    assert_eq!(
        d.summary(),
        "read data, read extended attributes, read attributes, write attributes, read control, synchronize"
    );
}

#[test]
fn pipe_write_end_0x120196_file() {
    let d = decode(0x120196, lookup_type("file"));
    let names: Vec<_> = d.names().collect();
    assert_eq!(
        names,
        [
            "FILE_WRITE_DATA",
            "FILE_APPEND_DATA",
            "FILE_WRITE_EA",
            "FILE_READ_ATTRIBUTES",
            "FILE_WRITE_ATTRIBUTES",
            "READ_CONTROL",
            "SYNCHRONIZE"
        ]
    );
    assert_eq!(d.compact, ["FILE_GENERIC_WRITE", "FILE_READ_ATTRIBUTES"]);
    assert_eq!(
        d.summary(),
        "write data, append data, write extended attributes, read attributes, write attributes, read control, synchronize"
    );
    let groups: Vec<_> = d.rights.iter().map(|r| r.group).collect();
    assert_eq!(groups[..5], [Group::Specific; 5]);
    assert_eq!(groups[5..], [Group::Standard; 2]);
}

#[test]
fn well_known_combinations() {
    let p = decode(0x1fffff, lookup_type("process"));
    assert_eq!(p.compact, ["PROCESS_ALL_ACCESS"]);
    // 0x4000 and 0x8000 have no name, yet PROCESS_ALL_ACCESS sets them.
    assert_eq!(p.unknown, 0xc000);
    assert_eq!(
        decode(0x20019, lookup_type("registry")).compact,
        ["KEY_READ"]
    );
}

#[test]
fn encode_file_generic_read_with_synchronize() {
    // FILE_GENERIC_READ already holds SYNCHRONIZE: 0x20000|0x1|0x80|0x8|0x100000.
    assert_eq!(
        encode("FILE_GENERIC_READ|SYNCHRONIZE", lookup_type("file")),
        Ok(0x120089)
    );
}

#[test]
fn generic_all_on_file_maps_to_file_all_access() {
    let file = lookup_type("file").unwrap();
    assert_eq!(map_generic(0x1000_0000, file), 0x1f01ff);
}
