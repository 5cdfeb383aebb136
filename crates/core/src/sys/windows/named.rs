//! Named pipes: the named-pipe directory listed as PipeList lists it (where the system
//! allows: Windows does, Wine does not), joined with every handle to a named-pipe end
//! that the handle scan finds, with each end's FilePipeLocalInformation.

use super::{ffi, scan};
use crate::Result;
use crate::model::{PipeKind, ScanOptions};
use crate::named_pipe::{
    FoundEnd, ListedPipe, MaxInstances, NamedPipeEnd, NamedPipes, PipeSide, PipeState, assemble,
};
use crate::parse_windows::{self as parse, PipeEnd};

pub(crate) fn named_pipes() -> Result<NamedPipes> {
    let listing = ffi::pipe_directory().ok().map(|entries| {
        entries
            .into_iter()
            .map(|e| ListedPipe {
                name: e.name,
                instances: e.instances,
                max_instances: e
                    .max_instances
                    .map_or(MaxInstances::Unlimited, MaxInstances::Limited),
            })
            .collect::<Vec<_>>()
    });
    scan::enable_debug_once();
    let opts = ScanOptions {
        pipes_only: true,
        ..ScanOptions::default()
    };
    let (snap, infos) = scan::scan_recording(&opts, scan::file_facts)?;
    let mut found = Vec::new();
    for p in &snap.processes {
        for h in &p.handles {
            let info = infos.get(&(p.pid, h.handle));
            let name = h.name.to_string_lossy();
            let rest = name.strip_prefix(parse::NAMED_PIPE_DEVICE);
            let pipe_name = match (h.pipe, rest) {
                (Some(PipeKind::Named), Some(rest)) => rest.to_owned(),
                // A pipe end left without a name: a client whose server has gone (Wine
                // drops the name then), or an unnamed anonymous pipe. Only a client that
                // has lost its server is worth listing.
                (Some(PipeKind::Anonymous), None | Some("")) => match info {
                    Some(i) if i.end == PipeEnd::Client && matches!(i.state, 1 | 4) => {
                        String::new()
                    }
                    _ => continue,
                },
                _ => continue,
            };
            found.push(FoundEnd {
                name: pipe_name,
                end: NamedPipeEnd {
                    pid: p.pid,
                    process: p.name.clone(),
                    handle: h.handle,
                    side: info.map(|i| match i.end {
                        PipeEnd::Server => PipeSide::Server,
                        PipeEnd::Client => PipeSide::Client,
                    }),
                    state: info.and_then(|i| PipeState::from_raw(i.state)),
                    access: h.access,
                    mode: h.mode,
                },
                instances: info
                    .map(|i| (i.current_instances, MaxInstances::from_raw(i.max_instances))),
            });
        }
    }
    Ok(NamedPipes {
        listed: listing.is_some(),
        pipes: assemble(listing, found),
        errors: snap.errors,
    })
}
