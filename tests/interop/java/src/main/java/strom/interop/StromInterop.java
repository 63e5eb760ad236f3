package strom.interop;

import org.apache.fluss.client.Connection;
import org.apache.fluss.client.ConnectionFactory;
import org.apache.fluss.client.admin.Admin;
import org.apache.fluss.client.admin.OffsetSpec;
import org.apache.fluss.client.table.Table;
import org.apache.fluss.client.table.scanner.ScanRecord;
import org.apache.fluss.client.table.scanner.log.LogScanner;
import org.apache.fluss.client.table.scanner.log.ScanRecords;
import org.apache.fluss.client.table.writer.AppendWriter;
import org.apache.fluss.cluster.ServerNode;
import org.apache.fluss.cluster.ServerType;
import org.apache.fluss.config.Configuration;
import org.apache.fluss.metadata.DatabaseDescriptor;
import org.apache.fluss.metadata.TableBucket;
import org.apache.fluss.metadata.TableDescriptor;
import org.apache.fluss.metadata.TablePath;
import org.apache.fluss.row.InternalRow;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Interoperability driver on the released Apache Fluss Java client.
 *
 * <pre>
 * StromInterop BOOTSTRAP SCENARIO [options]
 *   ping       [--timeout S]                    connect, list databases, wait for a tablet server
 *   log-table  [--rows N] [--seed S] [--db D] [--buckets B]
 *              create db + all-types log table, append N rows, full scan + compare,
 *              2-column projection scan + compare, list offsets, drop table + db
 *   write      --db D --table T [--rows N] [--start K] [--seed S] [--buckets B]
 *              [--failover-at M --failover-cmd CMD [--failover-ms D]]
 *              append rows K..K+N-1 (creates db and table when missing); with --failover-cmd,
 *              once rows K..K+M-1 are acknowledged CMD runs (sh -c, e.g. killing a leader) and
 *              the remaining rows are appended over D ms (default 5000); all must be acknowledged
 *   verify     --db D --table T [--rows N] [--start K] [--seed S] [--drop]
 *              the table holds exactly rows K..K+N-1, every value equal; --drop drops table + db after
 * common: --timeout S (whole scenario, default 600)
 * </pre>
 *
 * Prints one line of JSON on stdout; exit 0 only if everything matched.
 */
public final class StromInterop {
    private final String bootstrap;
    private final String scenario;
    private long rows = 100_000;
    private long start = 0;
    private long seed = 20260101L;
    private String db;
    private String tableName;
    private int buckets = 3;
    private boolean drop;
    private long timeoutMs = 600_000;
    private long failoverAt = -1;
    private String failoverCmd;
    private long failoverMs = 5000;
    /** The table's columns as indexes into Rows.NAMES (all of them for tables made here). */
    private int[] cols = Rows.allColumns();
    private final long t0 = System.nanoTime();
    private final Map<String, Object> out = new LinkedHashMap<>();
    private final Map<String, Double> seconds = new LinkedHashMap<>();

    private StromInterop(String bootstrap, String scenario) {
        this.bootstrap = bootstrap;
        this.scenario = scenario;
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: StromInterop BOOTSTRAP ping|log-table|write|verify [options]");
            System.exit(2);
        }
        StromInterop p = new StromInterop(args[0], args[1]);
        try {
            p.parse(Arrays.copyOfRange(args, 2, args.length));
        } catch (IllegalArgumentException e) {
            System.err.println("StromInterop: " + e.getMessage());
            System.exit(2);
        }
        int rc;
        try {
            p.run();
            p.out.put("ok", true);
            rc = 0;
        } catch (Throwable e) {
            e.printStackTrace(System.err);
            p.out.put("ok", false);
            p.out.put("error", String.valueOf(e.getMessage() == null ? e : e.getMessage()));
            rc = 1;
        }
        p.seconds.put("total", p.elapsed(p.t0));
        p.out.put("seconds", p.seconds);
        System.out.println(json(p.out));
        System.out.flush();
        // The client keeps non-daemon threads on failure paths; do not wait for them.
        Runtime.getRuntime().halt(rc);
    }

    private void parse(String[] a) {
        for (int i = 0; i < a.length; i++) {
            String k = a[i];
            if (k.equals("--drop")) {
                drop = true;
                continue;
            }
            if (i + 1 >= a.length) {
                throw new IllegalArgumentException("missing value for " + k);
            }
            String v = a[++i];
            switch (k) {
                case "--rows": rows = Long.parseLong(v); break;
                case "--start": start = Long.parseLong(v); break;
                case "--seed": seed = Long.parseLong(v); break;
                case "--db": db = v; break;
                case "--table": tableName = v; break;
                case "--buckets": buckets = Integer.parseInt(v); break;
                case "--timeout": timeoutMs = (long) (Double.parseDouble(v) * 1000); break;
                case "--failover-at": failoverAt = Long.parseLong(v); break;
                case "--failover-cmd": failoverCmd = v; break;
                case "--failover-ms": failoverMs = Long.parseLong(v); break;
                default: throw new IllegalArgumentException("unknown option " + k);
            }
        }
        if ((failoverCmd != null) != (failoverAt >= 0) || (failoverCmd != null && !scenario.equals("write"))
                || failoverAt > rows) {
            throw new IllegalArgumentException("--failover-at M (at most --rows) and --failover-cmd go together, with write");
        }
        if ((scenario.equals("write") || scenario.equals("verify")) && (db == null || tableName == null)) {
            throw new IllegalArgumentException(scenario + " needs --db and --table");
        }
    }

    private double elapsed(long since) {
        return Math.round((System.nanoTime() - since) / 1e6) / 1000.0;
    }

    private long deadline() {
        return t0 + timeoutMs * 1_000_000L;
    }

    private void checkDeadline(String what) {
        if (System.nanoTime() > deadline()) {
            throw new IllegalStateException("timeout while " + what);
        }
    }

    private Connection connect() {
        Configuration conf = new Configuration();
        conf.setString("bootstrap.servers", bootstrap);
        return ConnectionFactory.createConnection(conf);
    }

    private void run() throws Exception {
        out.put("scenario", scenario);
        out.put("client", "fluss-java-0.9.1-incubating");
        out.put("bootstrap", bootstrap);
        switch (scenario) {
            case "ping": ping(); break;
            case "log-table": logTable(); break;
            case "write": write(); break;
            case "verify": verify(); break;
            default: throw new IllegalArgumentException("unknown scenario " + scenario);
        }
    }

    // ------------------------------------------------------------------ scenarios

    private void ping() throws Exception {
        Exception last = null;
        while (System.nanoTime() < deadline()) {
            try (Connection conn = connect(); Admin admin = conn.getAdmin()) {
                List<String> dbs = admin.listDatabases().get();
                List<ServerNode> nodes = admin.getServerNodes().get();
                long ts = nodes.stream().filter(n -> n.serverType() == ServerType.TABLET_SERVER).count();
                if (ts > 0) {
                    out.put("databases", dbs);
                    out.put("tablet_servers", ts);
                    return;
                }
                last = new IllegalStateException("no tablet server registered yet");
            } catch (Exception e) {
                last = e;
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("server not ready: " + last, last);
    }

    private void logTable() throws Exception {
        if (db == null) {
            db = "interop_java_" + Long.toHexString(System.nanoTime() & 0xffffffL);
        }
        tableName = "log_all_types";
        TablePath path = TablePath.of(db, tableName);
        out.put("table", path.toString());
        try (Connection conn = connect(); Admin admin = conn.getAdmin()) {
            long t = System.nanoTime();
            admin.createDatabase(db, DatabaseDescriptor.builder().comment("strom interop").build(), false).get();
            admin.createTable(path, descriptor(), false).get();
            seconds.put("create", elapsed(t));

            try (Table table = conn.getTable(path)) {
                check(table.getTableInfo().getNumBuckets() == buckets, "table has "
                        + table.getTableInfo().getNumBuckets() + " buckets, expected " + buckets);
                t = System.nanoTime();
                append(table);
                seconds.put("write", elapsed(t));
                out.put("rows_written", rows);

                t = System.nanoTime();
                long[][] offsets = listOffsets(admin, path);
                seconds.put("list_offsets", elapsed(t));

                t = System.nanoTime();
                long[][] ids = scanAndCompare(table, offsets, true);
                seconds.put("scan", elapsed(t));

                t = System.nanoTime();
                scanProjected(table, offsets, ids);
                seconds.put("scan_projected", elapsed(t));
            }

            t = System.nanoTime();
            admin.dropTable(path, false).get();
            check(!admin.tableExists(path).get(), "table still exists after drop");
            admin.dropDatabase(db, false, true).get();
            check(!admin.databaseExists(db).get(), "database still exists after drop");
            seconds.put("drop", elapsed(t));
        }
    }

    private void write() throws Exception {
        TablePath path = TablePath.of(db, tableName);
        out.put("table", path.toString());
        try (Connection conn = connect(); Admin admin = conn.getAdmin()) {
            long t = System.nanoTime();
            admin.createDatabase(db, DatabaseDescriptor.builder().comment("strom interop").build(), true).get();
            admin.createTable(path, descriptor(), true).get();
            seconds.put("create", elapsed(t));
            try (Table table = conn.getTable(path)) {
                cols = Rows.columnsOf(table.getTableInfo().getRowType());
                out.put("columns", cols.length);
                t = System.nanoTime();
                append(table);
                seconds.put("write", elapsed(t));
                out.put("rows_written", rows);
                out.put("start", start);
            }
        }
    }

    private void verify() throws Exception {
        TablePath path = TablePath.of(db, tableName);
        out.put("table", path.toString());
        try (Connection conn = connect(); Admin admin = conn.getAdmin()) {
            try (Table table = conn.getTable(path)) {
                buckets = table.getTableInfo().getNumBuckets();
                cols = Rows.columnsOf(table.getTableInfo().getRowType());
                out.put("columns", cols.length);
                long t = System.nanoTime();
                long[][] offsets = listOffsets(admin, path);
                seconds.put("list_offsets", elapsed(t));
                t = System.nanoTime();
                scanAndCompare(table, offsets, false);
                seconds.put("scan", elapsed(t));
            }
            if (drop) {
                long t = System.nanoTime();
                admin.dropTable(path, false).get();
                admin.dropDatabase(db, true, true).get();
                seconds.put("drop", elapsed(t));
            }
        }
    }

    // ------------------------------------------------------------------ steps

    private TableDescriptor descriptor() {
        return TableDescriptor.builder()
                .schema(Rows.schema())
                .distributedBy(buckets)
                .comment("strom interop all scalar types")
                .build();
    }

    private void append(Table table) throws Exception {
        AppendWriter writer = table.newAppend().createWriter();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong acked = new AtomicLong();
        Failover failover = failoverCmd == null ? null : new Failover(failoverCmd, failoverMs);
        long faultAt = start + failoverAt;
        long tFault = 0;
        for (long id = start; id < start + rows; id++) {
            if (failover != null && id == faultAt) {
                // Everything before the fault is acknowledged; then the fault, and the rest is
                // written while the cluster recovers from it.
                writer.flush();
                check(failure.get() == null && acked.get() == id - start,
                        "before the fault: acknowledged " + acked.get() + " of " + (id - start) + " appends");
                tFault = System.nanoTime();
                failover.start();
            }
            if (failover != null && failover.started() && (id - faultAt) % 100 == 0) {
                failover.pace(id - faultAt, start + rows - faultAt);
            }
            writer.append(Rows.row(seed, id, cols)).whenComplete((r, e) -> {
                if (e != null) {
                    failure.compareAndSet(null, e);
                } else {
                    acked.incrementAndGet();
                }
            });
            if (failure.get() != null) {
                break;
            }
        }
        if (failover != null && !failover.started()) {
            tFault = System.nanoTime();
            failover.start();  // --failover-at = --rows: the fault after the last write
        }
        writer.flush();
        if (failover != null) {
            failover.finish(Math.max(1, (deadline() - System.nanoTime()) / 1_000_000));
            out.put("failover", failover.report(elapsed(tFault)));
        }
        if (failure.get() != null) {
            throw new IllegalStateException("append failed: " + failure.get(), failure.get());
        }
        check(acked.get() == rows, "acknowledged " + acked.get() + " of " + rows + " appends");
    }

    /** offsets[0][b] = earliest, offsets[1][b] = latest; checks that they cover exactly `rows` records. */
    private long[][] listOffsets(Admin admin, TablePath path) throws Exception {
        List<Integer> all = IntStream.range(0, buckets).boxed().collect(Collectors.toList());
        Map<Integer, Long> earliest = admin.listOffsets(path, all, new OffsetSpec.EarliestSpec()).all().get();
        Map<Integer, Long> latest = admin.listOffsets(path, all, new OffsetSpec.LatestSpec()).all().get();
        long[][] o = new long[2][buckets];
        long sum = 0;
        List<Map<String, Object>> perBucket = new ArrayList<>();
        for (int b = 0; b < buckets; b++) {
            o[0][b] = earliest.get(b);
            o[1][b] = latest.get(b);
            check(o[0][b] == 0, "bucket " + b + " earliest offset " + o[0][b] + ", expected 0");
            sum += o[1][b] - o[0][b];
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("bucket", b);
            m.put("earliest", o[0][b]);
            m.put("latest", o[1][b]);
            perBucket.add(m);
        }
        out.put("offsets", perBucket);
        check(sum == rows, "latest - earliest offsets sum to " + sum + ", expected " + rows);
        return o;
    }

    /**
     * Scans every bucket from the beginning up to its latest offset, checks contiguous offsets
     * and every value against the generator. Returns ids[b][offset - earliest].
     */
    private long[][] scanAndCompare(Table table, long[][] offsets, boolean ordered) throws Exception {
        long[][] ids = new long[buckets][];
        for (int b = 0; b < buckets; b++) {
            ids[b] = new long[(int) (offsets[1][b] - offsets[0][b])];
        }
        BitSet seen = new BitSet();
        long[] next = offsets[0].clone();
        long[] lastId = new long[buckets];
        Arrays.fill(lastId, Long.MIN_VALUE);
        long read = 0;
        long mismatches = 0;
        StringBuilder firstMismatch = new StringBuilder();
        InternalRow.FieldGetter[] getters = Rows.getters(cols);
        try (LogScanner scanner = table.newScan().createLogScanner()) {
            for (int b = 0; b < buckets; b++) {
                if (offsets[1][b] > offsets[0][b]) {
                    scanner.subscribeFromBeginning(b);
                }
            }
            while (!done(next, offsets[1])) {
                checkDeadline("scanning (read " + read + " of " + rows + ")");
                ScanRecords recs = scanner.poll(Duration.ofMillis(500));
                for (TableBucket tb : recs.buckets()) {
                    int b = tb.getBucket();
                    for (ScanRecord rec : recs.records(tb)) {
                        check(rec.logOffset() == next[b], "bucket " + b + ": offset " + rec.logOffset()
                                + ", expected " + next[b]);
                        check(rec.logOffset() < offsets[1][b], "bucket " + b + ": offset " + rec.logOffset()
                                + " beyond latest " + offsets[1][b]);
                        InternalRow row = rec.getRow();
                        check(row.getFieldCount() == cols.length, "row has " + row.getFieldCount() + " fields");
                        check(!row.isNullAt(0), "id is null at bucket " + b + " offset " + rec.logOffset());
                        long id = row.getLong(0);
                        check(id >= start && id < start + rows, "id " + id + " out of range");
                        int slot = (int) (id - start);
                        check(!seen.get(slot), "id " + id + " read twice");
                        seen.set(slot);
                        if (ordered) {
                            check(id > lastId[b], "bucket " + b + ": id " + id + " after " + lastId[b]);
                        }
                        lastId[b] = id;
                        ids[b][(int) (rec.logOffset() - offsets[0][b])] = id;
                        for (int pos = 1; pos < cols.length; pos++) {
                            int c = cols[pos];
                            Object exp = Rows.value(seed, id, c);
                            Object act = getters[pos].getFieldOrNull(row);
                            if (!Rows.same(exp, act)) {
                                if (mismatches++ == 0) {
                                    firstMismatch.append("id ").append(id).append(" column ").append(Rows.NAMES[c])
                                            .append(": expected ").append(Rows.show(exp))
                                            .append(", read ").append(Rows.show(act));
                                }
                            }
                        }
                        next[b]++;
                        read++;
                    }
                }
            }
        }
        out.put("rows_read", read);
        check(mismatches == 0, mismatches + " values differ; first: " + firstMismatch);
        check(read == rows && seen.cardinality() == rows, "read " + read + " rows, expected " + rows);
        return ids;
    }

    private void scanProjected(Table table, long[][] offsets, long[][] ids) throws Exception {
        long[] next = offsets[0].clone();
        long read = 0;
        long mismatches = 0;
        StringBuilder firstMismatch = new StringBuilder();
        List<String> projection = Arrays.asList(Rows.PROJECTION);
        out.put("projection", projection);
        int[] projCols = projection.stream().mapToInt(n -> Arrays.asList(Rows.NAMES).indexOf(n)).toArray();
        InternalRow.FieldGetter[] getters = Rows.getters(projCols);
        try (LogScanner scanner = table.newScan().project(projection).createLogScanner()) {
            for (int b = 0; b < buckets; b++) {
                if (offsets[1][b] > offsets[0][b]) {
                    scanner.subscribeFromBeginning(b);
                }
            }
            while (!done(next, offsets[1])) {
                checkDeadline("projected scan (read " + read + " of " + rows + ")");
                ScanRecords recs = scanner.poll(Duration.ofMillis(500));
                for (TableBucket tb : recs.buckets()) {
                    int b = tb.getBucket();
                    for (ScanRecord rec : recs.records(tb)) {
                        check(rec.logOffset() == next[b], "projected bucket " + b + ": offset "
                                + rec.logOffset() + ", expected " + next[b]);
                        InternalRow row = rec.getRow();
                        check(row.getFieldCount() == Rows.PROJECTION.length,
                                "projected row has " + row.getFieldCount() + " fields");
                        long id = ids[b][(int) (rec.logOffset() - offsets[0][b])];
                        for (int pos = 0; pos < projCols.length; pos++) {
                            int c = projCols[pos];
                            Object exp = Rows.value(seed, id, c);
                            Object act = getters[pos].getFieldOrNull(row);
                            if (!Rows.same(exp, act) && mismatches++ == 0) {
                                firstMismatch.append("id ").append(id).append(" column ").append(Rows.NAMES[c])
                                        .append(": expected ").append(Rows.show(exp))
                                        .append(", read ").append(Rows.show(act));
                            }
                        }
                        next[b]++;
                        read++;
                    }
                }
            }
        }
        out.put("projected_rows_read", read);
        check(mismatches == 0, mismatches + " projected values differ; first: " + firstMismatch);
        check(read == rows, "projected scan read " + read + " rows, expected " + rows);
    }

    private static boolean done(long[] next, long[] latest) {
        for (int b = 0; b < next.length; b++) {
            if (next[b] < latest[b]) {
                return false;
            }
        }
        return true;
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
        }
    }

    // ------------------------------------------------------------------ JSON

    @SuppressWarnings("unchecked")
    static String json(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Map) {
            StringBuilder sb = new StringBuilder("{");
            for (Map.Entry<String, Object> e : ((Map<String, Object>) v).entrySet()) {
                if (sb.length() > 1) {
                    sb.append(',');
                }
                sb.append(json(e.getKey())).append(':').append(json(e.getValue()));
            }
            return sb.append('}').toString();
        }
        if (v instanceof List) {
            return ((List<Object>) v).stream().map(StromInterop::json).collect(Collectors.joining(",", "[", "]"));
        }
        if (v instanceof Number || v instanceof Boolean) {
            return v.toString();
        }
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : v.toString().toCharArray()) {
            if (ch == '"' || ch == '\\') {
                sb.append('\\').append(ch);
            } else if (ch < 0x20) {
                sb.append(String.format("\\u%04x", (int) ch));
            } else {
                sb.append(ch);
            }
        }
        return sb.append('"').toString();
    }
}
