"""A single-node Slurm cluster for tests: munged, slurmctld and slurmd run as root.

Debian's ``slurm-wlm`` and ``munge`` are installed with apt-get when missing. Keys, state, sockets,
pid files and logs live in one temporary directory, so nothing of a system installation is used.
The one path outside it is ``/run/slurm/conf``, a symlink to the configuration: the job step of
snakemake-executor-plugin-slurm removes ``SLURM_CONF`` before the ``srun`` it calls inside each
job, and that ``srun`` then reads the configuration where a configless slurmd keeps its copy.
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PACKAGES = ["slurm-wlm", "munge"]
PROGRAMS = ["munged", "slurmctld", "slurmd", "sbatch", "scancel", "scontrol", "sinfo", "squeue"]
# where Slurm's commands look for slurm.conf without SLURM_CONF: the system's file, then the
# configuration a configless slurmd keeps
ETC_CONF = Path("/etc/slurm/slurm.conf")
RUNTIME_CONF = Path("/run/slurm/conf")
PARTITION = "neuralign"
CPUS = 2


def install() -> None:
    """Install Slurm and munge with apt-get unless their programs are on PATH."""
    if all(shutil.which(program) for program in PROGRAMS):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    add = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES]
    for command in (["apt-get", "update", "-qq"], add):
        subprocess.run(command, check=True, capture_output=True, text=True, env=env, timeout=900)


def existing_slurm() -> Path | None:
    """The configuration of a Slurm installed on this machine, if any."""
    return next((path for path in (ETC_CONF, RUNTIME_CONF) if os.path.lexists(path)), None)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def node_memory_mb() -> int:
    """Memory the node offers to jobs: 90% of this machine's, in MB."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20 * 9 // 10


def slurm_conf(root: Path, host: str, memory_mb: int) -> str:
    """slurm.conf of one node with CPUS cores and a fake GPU, without accounting or cgroups."""
    return f"""\
ClusterName=neuralign
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket={root}/munge/munge.socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
# finished jobs stay visible to squeue/scontrol for an hour: the plugin's squeue status checks
# and the test's look at the jobs rely on it
MinJobAge=3600
ReturnToService=2
DefMemPerCPU=1000
GresTypes=gpu
NodeName={host} NodeAddr=127.0.0.1 CPUs={CPUS} RealMemory={memory_mb} Gres=gpu:1 State=UNKNOWN
# not the default partition: a job only lands here when it names it
PartitionName={PARTITION} Nodes={host} Default=NO MaxTime=INFINITE State=UP
"""


class SlurmCluster:
    """The cluster as a context manager; ``env`` is the environment for Slurm's commands."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="neuralign-slurm-"))
        self.root.chmod(0o755)  # munged wants its socket directory's parents open to all
        self.conf = self.root / "etc" / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self.host = socket.gethostname().split(".")[0]
        self.daemons: list[subprocess.Popen] = []
        self.made_run_dir = False

    def __enter__(self) -> "SlurmCluster":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        """Write the configuration, start the daemons and wait until the node is idle."""
        if conf := existing_slurm():
            raise RuntimeError(f"{conf} exists: this machine has a Slurm of its own")
        self._write_files()
        self.made_run_dir = not RUNTIME_CONF.parent.exists()
        RUNTIME_CONF.parent.mkdir(exist_ok=True)
        RUNTIME_CONF.symlink_to(self.conf.parent)
        munge = self.root / "munge"
        self._spawn(
            "munged",
            "--foreground",
            f"--socket={munge / 'munge.socket'}",
            f"--key-file={munge / 'munge.key'}",
            f"--pid-file={munge / 'munged.pid'}",
            f"--seed-file={munge / 'munged.seed'}",
        )
        self._wait_for(lambda: (munge / "munge.socket").exists(), "munged socket")
        self._spawn("slurmctld", "-D", "-f", str(self.conf))
        self._spawn("slurmd", "-D", "-f", str(self.conf))
        self._wait_for(lambda: self._node_state() == "idle", "idle node")

    def stop(self) -> None:
        """End all jobs, stop every daemon started here by its pid and remove all files."""
        try:
            if len(self.daemons) == 3:
                self._cancel_jobs()
        finally:
            self._stop_daemons()
            for pid in self._job_processes():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if RUNTIME_CONF.is_symlink() and RUNTIME_CONF.readlink() == self.conf.parent:
                RUNTIME_CONF.unlink()
                if self.made_run_dir:
                    RUNTIME_CONF.parent.rmdir()
            shutil.rmtree(self.root, ignore_errors=True)

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a Slurm command against this cluster."""
        return subprocess.run(
            command, check=check, capture_output=True, text=True, env=self.env, timeout=60
        )

    def jobs(self) -> list[dict[str, str]]:
        """Every job slurmctld remembers, as the fields of ``scontrol show job --details``."""
        output = self.run("scontrol", "--oneliner", "--details", "show", "job").stdout
        return [
            dict(re.findall(r"(\S+?)=(\S*)", line))
            for line in output.splitlines()
            if line.startswith("JobId=")
        ]

    def _write_files(self) -> None:
        for name in ("etc", "munge", "state", "spool", "log"):
            (self.root / name).mkdir()
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        self.conf.write_text(slurm_conf(self.root, self.host, node_memory_mb()))
        # a GPU needs a device file; /dev/null is one and nothing in the jobs opens it
        (self.conf.parent / "gres.conf").write_text(
            f"NodeName={self.host} Name=gpu File=/dev/null\n"
        )

    def _spawn(self, program: str, *args: str) -> None:
        with open(self.root / "log" / f"{program}.log", "w") as log:
            self.daemons.append(
                subprocess.Popen(
                    [program, *args],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                )
            )

    def _node_state(self) -> str:
        return self.run("sinfo", "--noheader", "--Node", "--format=%T", check=False).stdout.strip()

    def _wait_for(self, ready, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            exited = [daemon.args[0] for daemon in self.daemons if daemon.poll() is not None]
            if exited or time.monotonic() > deadline:
                problem = f"{exited[0]} exited" if exited else f"no {what} after {timeout} s"
                raise RuntimeError(f"test cluster: {problem}\n{self._log_tails()}")
            time.sleep(0.5)

    def _log_tails(self) -> str:
        return "\n".join(
            f"--- {log.name}\n" + "\n".join(log.read_text().splitlines()[-15:])
            for log in sorted((self.root / "log").glob("*.log"))
        )

    def _cancel_jobs(self) -> None:
        self.run("scancel", f"--partition={PARTITION}", check=False)
        self._wait_for(lambda: not (self._queue() or self._job_processes()), "end of all jobs")

    def _queue(self) -> str:
        return self.run("squeue", "--noheader", check=False).stdout.strip()

    def _job_processes(self) -> list[int]:
        """Pids of the job steps (slurmstepd and what it runs) on this cluster.

        They are the processes that carry this cluster's SLURM_CONF and are not a daemon started
        here or its child (slurmctld's slurmscriptd).
        """
        ours = {daemon.pid for daemon in self.daemons}
        marker = f"SLURM_CONF={self.conf}".encode()
        pids = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                environ = (proc / "environ").read_bytes().split(b"\0")
                ppid = int(re.search(r"^PPid:\s+(\d+)", (proc / "status").read_text(), re.M)[1])
            except (OSError, ValueError):
                continue
            if marker in environ and int(proc.name) not in ours and ppid not in ours:
                pids.append(int(proc.name))
        return pids

    def _stop_daemons(self) -> None:
        for daemon in reversed(self.daemons):
            daemon.terminate()
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        self.daemons.clear()
