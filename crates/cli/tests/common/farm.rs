//! Starts the project's process farm (`bench/farm.py`) for a test and reads its manifest:
//! the ground truth of which process holds which fd, pointing at what, with which mode.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running farm; dropping it stops the farm (SIGTERM), which ends every member.
pub struct Farm {
    child: Child,
    _dir: tempfile::TempDir,
    /// The manifest `farm.py` wrote.
    pub manifest: Value,
}

impl Farm {
    /// Starts `farm.py` with these arguments and waits for its manifest.
    pub fn start(args: &[&str]) -> Farm {
        let dir = tempfile::tempdir().unwrap();
        let manifest_path = dir.path().join("farm.json");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/farm.py");
        let child = Command::new("python3")
            .arg(script)
            .args(args)
            .args(["--timeout", "300", "--manifest"])
            .arg(&manifest_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs bench/farm.py");
        let mut farm = Farm {
            child,
            _dir: dir,
            manifest: Value::Null,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while !manifest_path.exists() {
            assert!(
                farm.child.try_wait().unwrap().is_none(),
                "farm.py ended before writing its manifest"
            );
            assert!(Instant::now() < deadline, "farm.py did not start in time");
            std::thread::sleep(Duration::from_millis(20));
        }
        farm.manifest = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
        farm
    }

    /// The farm members' pids.
    pub fn pids(&self) -> Vec<u64> {
        self.processes()
            .iter()
            .map(|p| p["pid"].as_u64().unwrap())
            .collect()
    }

    /// The `processes` of the manifest.
    pub fn processes(&self) -> &Vec<Value> {
        self.manifest["processes"].as_array().unwrap()
    }
}

impl Drop for Farm {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
