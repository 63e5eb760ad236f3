package strom.interop;

import org.apache.fluss.client.Connection;
import org.apache.fluss.client.ConnectionFactory;
import org.apache.fluss.client.admin.Admin;
import org.apache.fluss.client.lookup.LookupResult;
import org.apache.fluss.client.lookup.Lookuper;
import org.apache.fluss.client.table.Table;
import org.apache.fluss.client.table.writer.AppendWriter;
import org.apache.fluss.client.table.writer.UpsertWriter;
import org.apache.fluss.config.Configuration;
import org.apache.fluss.metadata.DatabaseDescriptor;
import org.apache.fluss.metadata.Schema;
import org.apache.fluss.metadata.TableDescriptor;
import org.apache.fluss.metadata.TablePath;
import org.apache.fluss.row.BinaryString;
import org.apache.fluss.row.GenericRow;
import org.apache.fluss.row.InternalRow;
import org.apache.fluss.types.DataTypes;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Load generator on the released Apache Fluss Java client, the counterpart of `strom perf
 * append` and `strom perf lookup` (src/cli/perf_command.cc, perf_kv_command.cc): the same
 * tables, the same rows, the same JSON keys, so bench/peer/run.py can put the Java client's
 * figures next to the C++ client's for both servers.
 *
 * <pre>
 * PerfDriver BOOTSTRAP append [--rows N] [--payload BYTES] [--buckets B] [--compression C]
 *                             [--writers W]
 *   a fresh 10-column log table (id BIGINT, ts BIGINT, then c2..c9 cycling INT, BIGINT,
 *   DOUBLE, STRING; PAYLOAD bytes of text over the STRING columns); W threads, each with its
 *   own Connection and AppendWriter, append N rows as fast as they go, then flush
 * PerfDriver BOOTSTRAP lookup [--keys N] [--lookups N] [--buckets B] [--threads T]
 *                             [--concurrency C]
 *   a fresh primary-key table (id BIGINT key, c1..c9); T threads, each with its own
 *   Connection, upsert N keys, then look up random loaded keys with C lookups in flight in
 *   total, each thread waiting for its own in issue order; every row read is checked
 * common: --timeout S (default 600), --keep (do not drop the table)
 * </pre>
 *
 * Prints one line of JSON on stdout; exit 0 only if the run completed and every row matched.
 */
public final class PerfDriver {
    private static final String DATABASE = "strom_perf";
    private static final int POOL_ROWS = 4096;
    private static final int KV_VALUE_COLUMNS = 9;

    private final String bootstrap;
    private final String workload;
    private long rows = 1_000_000;
    private int payload = 200;
    private int buckets = 3;
    private String compression = "NONE";
    private int writers = 1;
    private long keys = 1_000_000;
    private long lookups = 1_000_000;
    private int threads = 1;
    private int concurrency = 256;
    private boolean keep;
    private long timeoutMs = 600_000;
    private final long t0 = System.nanoTime();
    private final Map<String, Object> out = new LinkedHashMap<>();

    private PerfDriver(String bootstrap, String workload) {
        this.bootstrap = bootstrap;
        this.workload = workload;
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: PerfDriver BOOTSTRAP append|lookup [options]");
            System.exit(2);
        }
        PerfDriver p = new PerfDriver(args[0], args[1]);
        try {
            p.parse(Arrays.copyOfRange(args, 2, args.length));
        } catch (IllegalArgumentException e) {
            System.err.println("PerfDriver: " + e.getMessage());
            System.exit(2);
        }
        int rc;
        try {
            p.out.put("workload", p.workload);
            p.out.put("client", "fluss-java-0.9.1-incubating");
            switch (p.workload) {
                case "append": p.append(); break;
                case "lookup": p.lookup(); break;
                default: throw new IllegalArgumentException("unknown workload " + p.workload);
            }
            p.out.put("ok", true);
            rc = 0;
        } catch (Throwable e) {
            e.printStackTrace(System.err);
            p.out.put("ok", false);
            p.out.put("error", String.valueOf(e.getMessage() == null ? e : e.getMessage()));
            rc = 1;
        }
        p.out.put("total_seconds", (System.nanoTime() - p.t0) / 1e9);
        System.out.println(StromInterop.json(p.out));
        System.out.flush();
        // The client keeps non-daemon threads on failure paths; do not wait for them.
        Runtime.getRuntime().halt(rc);
    }

    private void parse(String[] a) {
        for (int i = 0; i < a.length; i++) {
            String k = a[i];
            if (k.equals("--keep")) {
                keep = true;
                continue;
            }
            if (i + 1 >= a.length) {
                throw new IllegalArgumentException("missing value for " + k);
            }
            String v = a[++i];
            switch (k) {
                case "--rows": rows = Long.parseLong(v); break;
                case "--payload": payload = Integer.parseInt(v); break;
                case "--buckets": buckets = Integer.parseInt(v); break;
                case "--compression": compression = v; break;
                case "--writers": writers = Integer.parseInt(v); break;
                case "--keys": keys = Long.parseLong(v); break;
                case "--lookups": lookups = Long.parseLong(v); break;
                case "--threads": threads = Integer.parseInt(v); break;
                case "--concurrency": concurrency = Integer.parseInt(v); break;
                case "--timeout": timeoutMs = (long) (Double.parseDouble(v) * 1000); break;
                default: throw new IllegalArgumentException("unknown option " + k);
            }
        }
        if (rows <= 0 || payload < 0 || buckets <= 0 || writers <= 0 || keys <= 0 || lookups < 0
                || threads <= 0 || concurrency <= 0) {
            throw new IllegalArgumentException("sizes and counts must be positive");
        }
    }

    private Connection connect() {
        Configuration conf = new Configuration();
        conf.setString("bootstrap.servers", bootstrap);
        return ConnectionFactory.createConnection(conf);
    }

    private long deadline() {
        return t0 + timeoutMs * 1_000_000L;
    }

    private static double seconds(long fromNanos, long toNanos) {
        return Math.max((toNanos - fromNanos) / 1e9, 1e-9);
    }

    private TablePath freshPath(String prefix) {
        return TablePath.of(DATABASE, "java_" + prefix + "_" + ProcessHandle.current().pid() + "_"
                + (System.nanoTime() % 1_000_000L));
    }

    /** Runs `body` once per worker, each on its own thread; rethrows the first failure. */
    private interface Worker {
        void run(int index) throws Exception;
    }

    /** One Connection and table handle per worker, opened before anything is timed. */
    private final List<Connection> connections = new ArrayList<>();
    private final List<Table> tables = new ArrayList<>();

    private void openHandles(int count, TablePath path) throws Exception {
        for (int i = 0; i < count; i++) {
            Connection c = connect();
            connections.add(c);
            tables.add(c.getTable(path));
        }
    }

    private void closeHandles() throws Exception {
        for (Table t : tables) {
            t.close();
        }
        for (Connection c : connections) {
            c.close();
        }
        tables.clear();
        connections.clear();
    }

    private static void onThreads(int count, Worker body) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> started = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            final int index = i;
            Thread t = new Thread(() -> {
                try {
                    body.run(index);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "perf-" + i);
            t.start();
            started.add(t);
        }
        for (Thread t : started) {
            t.join();
        }
        if (failure.get() != null) {
            Throwable e = failure.get();
            throw e instanceof Exception ? (Exception) e : new RuntimeException(e);
        }
    }

    // ------------------------------------------------------------------ append

    /** The columns of `strom perf append`'s default "wide" schema with 10 columns. */
    private static Schema appendSchema() {
        Schema.Builder b = Schema.newBuilder();
        b.column("id", DataTypes.BIGINT());
        b.column("ts", DataTypes.BIGINT());
        for (int i = 2; i < 10; i++) {
            switch ((i - 2) % 4) {
                case 0: b.column("c" + i, DataTypes.INT()); break;
                case 1: b.column("c" + i, DataTypes.BIGINT()); break;
                case 2: b.column("c" + i, DataTypes.DOUBLE()); break;
                default: b.column("c" + i, DataTypes.STRING()); break;
            }
        }
        return b.build();
    }

    /** Pre-built value columns (2..9) of POOL_ROWS rows; id and ts are set per append. */
    private Object[][] appendPool() {
        Random rng = new Random(42);
        int perString = payload / 2;
        Object[][] pool = new Object[POOL_ROWS][];
        for (int r = 0; r < POOL_ROWS; r++) {
            Object[] v = new Object[10];
            for (int i = 2; i < 10; i++) {
                switch ((i - 2) % 4) {
                    case 0: v[i] = rng.nextInt(1_000_000); break;
                    case 1: v[i] = rng.nextLong() >>> 4; break;
                    case 2: v[i] = rng.nextInt(100_000) / 7.0; break;
                    default: {
                        char[] text = new char[perString];
                        for (int c = 0; c < perString; c++) {
                            text[c] = (char) ('a' + rng.nextInt(26));
                        }
                        v[i] = BinaryString.fromString(new String(text));
                    }
                }
            }
            pool[r] = v;
        }
        return pool;
    }

    private void append() throws Exception {
        TablePath path = freshPath("append");
        Object[][] pool = appendPool();
        long rawRowBytes = 8 + 8 + 2 * (4 + 8 + 8) + 2L * (payload / 2);
        try (Connection conn = connect(); Admin admin = conn.getAdmin()) {
            admin.createDatabase(DATABASE, DatabaseDescriptor.EMPTY, true).get();
            admin.createTable(path, TableDescriptor.builder()
                    .schema(appendSchema())
                    .distributedBy(buckets)
                    .property("table.log.arrow.compression.type", compression)
                    .build(), false).get();
            try {
                AtomicLong next = new AtomicLong();
                AtomicLong acked = new AtomicLong();
                AtomicReference<Throwable> failed = new AtomicReference<>();
                long[] perWriter = new long[writers];
                openHandles(writers, path);
                List<AppendWriter> appenders = new ArrayList<>();
                for (Table table : tables) {
                    appenders.add(table.newAppend().createWriter());
                }
                long start = System.nanoTime();
                onThreads(writers, w -> {
                    {
                        AppendWriter writer = appenders.get(w);
                        final int chunk = 256;
                        long mine = 0;
                        for (;;) {
                            long first = next.getAndAdd(chunk);
                            if (first >= rows || failed.get() != null) {
                                break;
                            }
                            if (System.nanoTime() > deadline()) {
                                throw new IllegalStateException("timeout while appending");
                            }
                            long end = Math.min(rows, first + chunk);
                            for (long id = first; id < end; id++) {
                                Object[] v = pool[(int) (id & (POOL_ROWS - 1))];
                                GenericRow row = new GenericRow(10);
                                row.setField(0, id);
                                row.setField(1, System.nanoTime());
                                for (int c = 2; c < 10; c++) {
                                    row.setField(c, v[c]);
                                }
                                writer.append(row).whenComplete((r, e) -> {
                                    if (e != null) {
                                        failed.compareAndSet(null, e);
                                    } else {
                                        acked.incrementAndGet();
                                    }
                                });
                            }
                            mine += end - first;
                        }
                        writer.flush();
                        perWriter[w] = mine;
                    }
                });
                double secs = seconds(start, System.nanoTime());
                if (failed.get() != null) {
                    throw new IllegalStateException("append failed: " + failed.get(), failed.get());
                }
                if (acked.get() != rows) {
                    throw new IllegalStateException(acked.get() + " rows acknowledged of " + rows);
                }
                out.put("table", path.toString());
                out.put("columns", 10);
                out.put("buckets", buckets);
                out.put("compression", compression);
                out.put("raw_row_bytes", rawRowBytes);
                out.put("writers", writers);
                out.put("connections", writers);
                List<Long> split = new ArrayList<>();
                for (long n : perWriter) {
                    split.add(n);
                }
                out.put("writer_rows", split);
                out.put("rows", acked.get());
                out.put("seconds", secs);
                out.put("rows_per_s", acked.get() / secs);
                out.put("raw_mb_per_s", acked.get() * (double) rawRowBytes / 1e6 / secs);
            } finally {
                closeHandles();
                if (!keep) {
                    admin.dropTable(path, true).get();
                }
            }
        }
    }

    // ------------------------------------------------------------------ lookup

    /** `strom perf upsert|lookup`'s table: id BIGINT primary key, c1..c9. */
    private static Schema kvSchema() {
        Schema.Builder b = Schema.newBuilder();
        b.column("id", DataTypes.BIGINT().copy(false));
        for (int i = 1; i <= KV_VALUE_COLUMNS; i++) {
            switch (i % 4) {
                case 1: b.column("c" + i, DataTypes.INT()); break;
                case 2: b.column("c" + i, DataTypes.BIGINT()); break;
                case 3: b.column("c" + i, DataTypes.DOUBLE()); break;
                default: b.column("c" + i, DataTypes.STRING()); break;
            }
        }
        b.primaryKey("id");
        return b.build();
    }

    /** The row of key id, values derived from the key (as PerfRow in perf_kv_command.cc). */
    private static GenericRow kvRow(long id) {
        GenericRow row = new GenericRow(1 + KV_VALUE_COLUMNS);
        row.setField(0, id);
        for (int i = 1; i <= KV_VALUE_COLUMNS; i++) {
            long v = id * 31 + i;
            switch (i % 4) {
                case 1: row.setField(i, (int) v); break;
                case 2: row.setField(i, v); break;
                case 3: row.setField(i, v / 7.0); break;
                default: row.setField(i, BinaryString.fromString(String.format("value-%012d", v)));
            }
        }
        return row;
    }

    private static boolean sameKvRow(InternalRow got, long id) {
        if (got.getFieldCount() != 1 + KV_VALUE_COLUMNS || got.getLong(0) != id) {
            return false;
        }
        for (int i = 1; i <= KV_VALUE_COLUMNS; i++) {
            long v = id * 31 + i;
            boolean same;
            switch (i % 4) {
                case 1: same = got.getInt(i) == (int) v; break;
                case 2: same = got.getLong(i) == v; break;
                case 3: same = got.getDouble(i) == v / 7.0; break;
                default: same = got.getString(i).toString().equals(String.format("value-%012d", v));
            }
            if (!same) {
                return false;
            }
        }
        return true;
    }

    private static final class Pending {
        final long id;
        final long started;
        final CompletableFuture<LookupResult> future;

        Pending(long id, long started, CompletableFuture<LookupResult> future) {
            this.id = id;
            this.started = started;
            this.future = future;
        }
    }

    private void lookup() throws Exception {
        TablePath path = freshPath("lookup");
        try (Connection conn = connect(); Admin admin = conn.getAdmin()) {
            admin.createDatabase(DATABASE, DatabaseDescriptor.EMPTY, true).get();
            admin.createTable(path, TableDescriptor.builder()
                    .schema(kvSchema())
                    .distributedBy(buckets, "id")
                    .build(), false).get();
            try {
                // Each thread: its own Connection, upserts its share of the keys, then waits
                // at the barrier and runs its lookups (the timed phases are separate).
                openHandles(threads, path);
                List<UpsertWriter> upserters = new ArrayList<>();
                for (Table table : tables) {
                    upserters.add(table.newUpsert().createWriter());
                }
                long loadStart = System.nanoTime();
                onThreads(threads, t -> {
                    {
                        UpsertWriter writer = upserters.get(t);
                        AtomicReference<Throwable> failed = new AtomicReference<>();
                        for (long id = t; id < keys && failed.get() == null; id += threads) {
                            writer.upsert(kvRow(id)).whenComplete((r, e) -> {
                                if (e != null) {
                                    failed.compareAndSet(null, e);
                                }
                            });
                        }
                        writer.flush();
                        if (failed.get() != null) {
                            throw new IllegalStateException("upsert failed: " + failed.get(), failed.get());
                        }
                    }
                });
                double loadSeconds = seconds(loadStart, System.nanoTime());

                int window = Math.max(1, concurrency / threads);
                long[][] latencies = new long[threads][];
                AtomicLong found = new AtomicLong();
                AtomicLong missing = new AtomicLong();
                AtomicLong wrong = new AtomicLong();
                List<Lookuper> lookupers = new ArrayList<>();
                for (Table table : tables) {
                    lookupers.add(table.newLookup().createLookuper());
                }
                long start = System.nanoTime();
                onThreads(threads, t -> {
                    {
                        Lookuper lookuper = lookupers.get(t);
                        Random rng = new Random(t * 7919L + 17);
                        long count = lookups / threads + (t < lookups % threads ? 1 : 0);
                        long[] mine = new long[(int) count];
                        int done = 0;
                        ArrayDeque<Pending> pending = new ArrayDeque<>();
                        for (long i = 0; i < count || !pending.isEmpty(); ) {
                            if (i < count && pending.size() < window) {
                                long id = (rng.nextLong() >>> 1) % keys;
                                pending.add(new Pending(id, System.nanoTime(),
                                        lookuper.lookup(GenericRow.of(id))));
                                i++;
                                continue;
                            }
                            Pending head = pending.poll();
                            long left = deadline() - System.nanoTime();
                            LookupResult r = head.future.get(Math.max(left, 1), TimeUnit.NANOSECONDS);
                            mine[done++] = System.nanoTime() - head.started;
                            InternalRow row = r.getSingletonRow();
                            if (row == null) {
                                missing.incrementAndGet();
                            } else if (!sameKvRow(row, head.id)) {
                                wrong.incrementAndGet();
                            } else {
                                found.incrementAndGet();
                            }
                        }
                        latencies[t] = mine;
                    }
                });
                double secs = seconds(start, System.nanoTime());
                long total = 0;
                for (long[] part : latencies) {
                    total += part.length;
                }
                long[] all = new long[(int) total];
                int at = 0;
                for (long[] part : latencies) {
                    System.arraycopy(part, 0, all, at, part.length);
                    at += part.length;
                }
                Arrays.sort(all);
                double mean = 0;
                for (long v : all) {
                    mean += v;
                }
                mean = all.length == 0 ? 0 : mean / all.length / 1e6;
                out.put("table", path.toString());
                out.put("columns", 1 + KV_VALUE_COLUMNS);
                out.put("buckets", buckets);
                out.put("keys", keys);
                out.put("load_seconds", loadSeconds);
                out.put("load_rows_per_s", keys / loadSeconds);
                out.put("threads", threads);
                out.put("connections", threads);
                out.put("concurrency", window * threads);
                out.put("lookups", all.length);
                out.put("found", found.get());
                out.put("missing", missing.get());
                out.put("mismatched", wrong.get());
                out.put("seconds", secs);
                out.put("rows_per_s", all.length / secs);
                out.put("latency_samples", all.length);
                out.put("p50_ms", percentile(all, 0.50));
                out.put("p90_ms", percentile(all, 0.90));
                out.put("p99_ms", percentile(all, 0.99));
                out.put("p999_ms", percentile(all, 0.999));
                out.put("max_ms", all.length == 0 ? 0.0 : all[all.length - 1] / 1e6);
                out.put("mean_ms", mean);
                if (missing.get() > 0 || wrong.get() > 0) {
                    throw new IllegalStateException(missing.get() + " looked-up keys missing, "
                            + wrong.get() + " rows differ from what was written");
                }
            } finally {
                closeHandles();
                if (!keep) {
                    admin.dropTable(path, true).get();
                }
            }
        }
    }

    private static double percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(q * sorted.length);
        rank = Math.max(1, Math.min(rank, sorted.length));
        return sorted[rank - 1] / 1e6;
    }
}
