package strom.interop;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A fault started in the middle of a write: `--failover-cmd CMD` is run with `sh -c` (for
 * example `cluster.py kill-leader DB.T 0`, which SIGKILLs a bucket's leader) once the writes
 * before it are acknowledged, and the writes after it are spread over `--failover-ms` (default
 * 5000) so that the client keeps writing while the cluster elects a new leader. The client
 * retries on its own; the driver only checks that every write was acknowledged and, later,
 * that the table holds each exactly once.
 */
final class Failover {
    final String command;
    final long spreadMs;
    private Process process;
    private long startedNanos;
    private int exitCode = -1;

    Failover(String command, long spreadMs) {
        this.command = command;
        this.spreadMs = spreadMs;
    }

    /** Starts the command without waiting for it; its output goes to this process's stderr. */
    void start() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", command);
        pb.redirectOutput(ProcessBuilder.Redirect.INHERIT);
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        startedNanos = System.nanoTime();
        process = pb.start();
    }

    boolean started() {
        return process != null;
    }

    /** Sleeps until write `index` of `count` is due: the writes after the fault span spreadMs. */
    void pace(long index, long count) throws InterruptedException {
        if (count <= 0) {
            return;
        }
        long dueNanos = startedNanos + TimeUnit.MILLISECONDS.toNanos(spreadMs) * index / count;
        long wait = dueNanos - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }

    /** Waits (bounded) for the command; fails unless it exited 0. */
    void finish(long timeoutMs) throws Exception {
        if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("failover command did not finish: " + command);
        }
        exitCode = process.exitValue();
        if (exitCode != 0) {
            throw new IllegalStateException("failover command exited " + exitCode + ": " + command);
        }
    }

    Map<String, Object> report(double writeSecondsAfter) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", command);
        m.put("spread_ms", spreadMs);
        m.put("exit_code", exitCode);
        m.put("seconds_after_fault", writeSecondsAfter);
        return m;
    }
}
