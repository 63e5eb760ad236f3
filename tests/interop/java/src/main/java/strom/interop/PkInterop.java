package strom.interop;

import org.apache.fluss.client.Connection;
import org.apache.fluss.client.ConnectionFactory;
import org.apache.fluss.client.admin.Admin;
import org.apache.fluss.client.admin.OffsetSpec;
import org.apache.fluss.client.lookup.LookupResult;
import org.apache.fluss.client.lookup.Lookuper;
import org.apache.fluss.client.table.Table;
import org.apache.fluss.client.table.scanner.ScanRecord;
import org.apache.fluss.client.table.scanner.batch.BatchScanner;
import org.apache.fluss.client.table.scanner.log.LogScanner;
import org.apache.fluss.client.table.scanner.log.ScanRecords;
import org.apache.fluss.client.table.writer.UpsertWriter;
import org.apache.fluss.config.Configuration;
import org.apache.fluss.metadata.DatabaseDescriptor;
import org.apache.fluss.metadata.TableBucket;
import org.apache.fluss.metadata.TableDescriptor;
import org.apache.fluss.metadata.TableInfo;
import org.apache.fluss.metadata.TablePath;
import org.apache.fluss.row.BinaryString;
import org.apache.fluss.row.GenericRow;
import org.apache.fluss.row.InternalRow;
import org.apache.fluss.utils.CloseableIterator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Primary-key interoperability driver on the released Apache Fluss Java client.
 *
 * <pre>
 * PkInterop BOOTSTRAP SCENARIO [options]
 *   pk-table   [--rows N] [--seed S] [--db D] [--buckets B]
 *              create db + primary-key table, run every phase, verify, drop
 *   pk-write   --db D --table T [--rows N] [--seed S] [--buckets B] [--phases P,...]
 *              [--failover-cmd CMD [--failover-ms D]]
 *              run the given phases (default all); creates db and table when missing; with
 *              --failover-cmd, CMD runs (sh -c, e.g. killing a leader) once the first phase is
 *              acknowledged, the next phase is written over D ms (default 5000) while the
 *              cluster recovers, and every write must be acknowledged
 *   pk-verify  --db D --table T [--rows N] [--seed S] [--phases P,...] [--drop]
 *              the table is the model after the given phases (default all): lookups of every
 *              key, prefix lookups of every group, the changelog, limit scans, the row count
 * common: --timeout S (whole scenario, default 600)
 * </pre>
 *
 * The workload and model are in PkModel (specified in tests/interop/README.md). Prints one line
 * of JSON on stdout; exit 0 only if everything matched.
 */
public final class PkInterop {
    /** Lookups in flight at most (the client batches them per bucket). */
    private static final int LOOKUP_WINDOW = 4096;
    private static final int LIMIT = 100;

    private final String bootstrap;
    private final String scenario;
    private long rows = 100_000;
    private long seed = 20260101L;
    private String db;
    private String tableName;
    private int buckets = 3;
    private boolean drop;
    private List<String> phases = Arrays.asList(PkModel.PHASES);
    private long timeoutMs = 600_000;
    private String failoverCmd;
    private long failoverMs = 5000;
    private final long t0 = System.nanoTime();
    private final Map<String, Object> out = new LinkedHashMap<>();
    private final Map<String, Double> seconds = new LinkedHashMap<>();

    private PkInterop(String bootstrap, String scenario) {
        this.bootstrap = bootstrap;
        this.scenario = scenario;
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: PkInterop BOOTSTRAP pk-table|pk-write|pk-verify [options]");
            System.exit(2);
        }
        PkInterop p = new PkInterop(args[0], args[1]);
        try {
            p.parse(Arrays.copyOfRange(args, 2, args.length));
        } catch (IllegalArgumentException e) {
            System.err.println("PkInterop: " + e.getMessage());
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
        System.out.println(StromInterop.json(p.out));
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
                case "--seed": seed = Long.parseLong(v); break;
                case "--db": db = v; break;
                case "--table": tableName = v; break;
                case "--buckets": buckets = Integer.parseInt(v); break;
                case "--phases": phases = PkModel.parsePhases(v); break;
                case "--timeout": timeoutMs = (long) (Double.parseDouble(v) * 1000); break;
                case "--failover-cmd": failoverCmd = v; break;
                case "--failover-ms": failoverMs = Long.parseLong(v); break;
                default: throw new IllegalArgumentException("unknown option " + k);
            }
        }
        if (!scenario.equals("pk-table") && (db == null || tableName == null)) {
            throw new IllegalArgumentException(scenario + " needs --db and --table");
        }
    }

    private double elapsed(long since) {
        return Math.round((System.nanoTime() - since) / 1e6) / 1000.0;
    }

    private void checkDeadline(String what) {
        if (System.nanoTime() > t0 + timeoutMs * 1_000_000L) {
            throw new IllegalStateException("timeout while " + what);
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
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
        out.put("phases", phases);
        switch (scenario) {
            case "pk-table":
                if (db == null) {
                    db = "interop_java_pk_" + Long.toHexString(System.nanoTime() & 0xffffffL);
                }
                tableName = "pk_all_types";
                write(true);
                verify(true);
                break;
            case "pk-write": write(false); break;
            case "pk-verify": verify(drop); break;
            default: throw new IllegalArgumentException("unknown scenario " + scenario);
        }
    }

    // ------------------------------------------------------------------ writing

    private void write(boolean mustCreate) throws Exception {
        TablePath path = TablePath.of(db, tableName);
        out.put("table", path.toString());
        try (Connection conn = connect(); Admin admin = conn.getAdmin()) {
            long t = System.nanoTime();
            admin.createDatabase(db, DatabaseDescriptor.builder().comment("strom interop").build(), !mustCreate).get();
            TableDescriptor desc = TableDescriptor.builder()
                    .schema(PkRows.schema())
                    .distributedBy(buckets, PkRows.KEY_GROUP)
                    .comment("strom interop primary-key table")
                    .build();
            admin.createTable(path, desc, !mustCreate).get();
            seconds.put("create", elapsed(t));
            try (Table table = conn.getTable(path)) {
                TableInfo info = table.getTableInfo();
                check(info.hasPrimaryKey(), "table has no primary key");
                check(info.getPrimaryKeys().equals(Arrays.asList(PkRows.KEY_GROUP, "id")),
                        "primary key " + info.getPrimaryKeys());
                check(info.getBucketKeys().equals(List.of(PkRows.KEY_GROUP)), "bucket key " + info.getBucketKeys());
                PkRows.Layout layout = new PkRows.Layout(info.getRowType());
                out.put("columns", layout.arity());
                // Replays the earlier phases into the model so that each step knows what it
                // overwrites; only the requested phases are written.
                PkModel model = new PkModel(layout.valueNames, rows, seed);
                List<String> all = Arrays.asList(PkModel.PHASES);
                int lastWritten = all.indexOf(phases.get(phases.size() - 1));
                Map<String, Long> written = new LinkedHashMap<>();
                Failover failover = failoverCmd == null ? null : new Failover(failoverCmd, failoverMs);
                long tFault = 0;
                for (int i = 0; i <= lastWritten; i++) {
                    String phase = PkModel.PHASES[i];
                    List<PkModel.Step> steps = PkModel.steps(phase, rows);
                    if (phases.contains(phase)) {
                        Failover during = null;
                        if (failover != null && !failover.started() && !written.isEmpty()) {
                            // The phases before are acknowledged; this one runs through the fault.
                            tFault = System.nanoTime();
                            failover.start();
                            during = failover;
                        }
                        t = System.nanoTime();
                        writePhase(table, layout, steps, during);
                        seconds.put("write_" + phase, elapsed(t));
                        written.put(phase, (long) steps.size());
                    }
                    for (PkModel.Step s : steps) {
                        model.apply(s);
                    }
                }
                out.put("writes", written);
                if (failover != null) {
                    check(failover.started(), "--failover-cmd needs at least two phases to write");
                    failover.finish(Math.max(1, (t0 + timeoutMs * 1_000_000L - System.nanoTime()) / 1_000_000));
                    out.put("failover", failover.report(elapsed(tFault)));
                }
                out.put("live_keys", model.state.size());
                out.put("changes_expected", model.changeCount);
            }
        }
    }

    private void writePhase(Table table, PkRows.Layout layout, List<PkModel.Step> steps, Failover pacer)
            throws InterruptedException {
        UpsertWriter full = table.newUpsert().createWriter();
        UpsertWriter partial = table.newUpsert().partialUpdate(layout.partialTargets()).createWriter();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong acked = new AtomicLong();
        int[] gens = new int[layout.valueCols.length];
        long index = 0;
        for (PkModel.Step s : steps) {
            if (pacer != null && index % 50 == 0) {
                pacer.pace(index, steps.size());
            }
            index++;
            CompletableFuture<?> f;
            switch (s.op) {
                case UPSERT:
                    Arrays.fill(gens, s.gen);
                    f = full.upsert(layout.row(seed, s.id, gens));
                    break;
                case PARTIAL: {
                    // Only the target columns are read by the server; the others are left null.
                    List<String> p = Arrays.asList(PkModel.PARTIAL);
                    for (int i = 0; i < gens.length; i++) {
                        gens[i] = p.contains(layout.valueNames[i]) ? s.gen : PkModel.NULL_GEN;
                    }
                    f = partial.upsert(layout.row(seed, s.id, gens));
                    break;
                }
                case DELETE:
                    f = full.delete(layout.keyOnly(s.id));
                    break;
                default:
                    throw new IllegalStateException();
            }
            f.whenComplete((r, e) -> {
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
        full.flush();
        partial.flush();
        if (failure.get() != null) {
            throw new IllegalStateException("write failed: " + failure.get(), failure.get());
        }
        check(acked.get() == steps.size(), "acknowledged " + acked.get() + " of " + steps.size() + " writes");
    }

    // ------------------------------------------------------------------ verifying

    private void verify(boolean dropAfter) throws Exception {
        TablePath path = TablePath.of(db, tableName);
        out.put("table", path.toString());
        try (Connection conn = connect(); Admin admin = conn.getAdmin()) {
            try (Table table = conn.getTable(path)) {
                TableInfo info = table.getTableInfo();
                buckets = info.getNumBuckets();
                PkRows.Layout layout = new PkRows.Layout(info.getRowType());
                out.put("columns", layout.arity());
                PkModel model = PkModel.after(layout.valueNames, rows, seed, phases);
                out.put("live_keys", model.state.size());
                check(info.getPrimaryKeys().equals(Arrays.asList(PkRows.KEY_GROUP, "id")),
                        "primary key " + info.getPrimaryKeys());
                check(info.getBucketKeys().equals(List.of(PkRows.KEY_GROUP)), "bucket key " + info.getBucketKeys());

                long t = System.nanoTime();
                lookupAll(table, layout, model);
                seconds.put("lookup", elapsed(t));

                t = System.nanoTime();
                prefixLookupAll(table, layout, model);
                seconds.put("prefix_lookup", elapsed(t));

                t = System.nanoTime();
                Map<Long, Integer> bucketOf = changelog(admin, path, table, layout, model);
                seconds.put("changelog", elapsed(t));

                t = System.nanoTime();
                limitScans(table, layout, model, bucketOf, info.getTableId());
                seconds.put("limit_scan", elapsed(t));

                t = System.nanoTime();
                long count = admin.getTableStats(path).get().getRowCount();
                out.put("row_count", count);
                check(count == model.state.size(), "table stats row count " + count + ", expected "
                        + model.state.size());
                seconds.put("table_stats", elapsed(t));
            }
            if (dropAfter) {
                long t = System.nanoTime();
                admin.dropTable(path, false).get();
                check(!admin.tableExists(path).get(), "table still exists after drop");
                admin.dropDatabase(db, true, true).get();
                seconds.put("drop", elapsed(t));
            }
        }
    }

    private static GenericRow keyRow(long id) {
        // Primary key order: (k_grp, id).
        return GenericRow.of(BinaryString.fromString(PkModel.group(id)), id);
    }

    /** Looks up every key that any phase touched, plus keys no phase wrote. */
    private void lookupAll(Table table, PkRows.Layout layout, PkModel model) throws Exception {
        Lookuper lookuper = table.newLookup().createLookuper();
        Semaphore window = new Semaphore(LOOKUP_WINDOW);
        AtomicReference<String> firstError = new AtomicReference<>();
        AtomicLong errors = new AtomicLong();
        AtomicLong found = new AtomicLong();
        long keys = model.keySpace();
        for (long id = 0; id < keys; id++) {
            checkDeadline("looking up key " + id);
            if (!window.tryAcquire(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("no lookup answer within 60 s (at key " + id + ")");
            }
            final long key = id;
            int[] gens = model.state.get(key);
            lookuper.lookup(keyRow(key)).whenComplete((LookupResult r, Throwable e) -> {
                try {
                    String err;
                    if (e != null) {
                        err = "key " + key + ": lookup failed: " + e;
                    } else {
                        List<InternalRow> got = r.getRowList();
                        if (gens == null) {
                            err = got.isEmpty() || got.get(0) == null ? null
                                    : "key " + key + ": found a row, expected none";
                        } else if (got.size() != 1 || got.get(0) == null) {
                            err = "key " + key + ": " + got.size() + " rows found, expected 1";
                        } else {
                            found.incrementAndGet();
                            err = layout.diff(got.get(0), seed, key, gens);
                        }
                    }
                    if (err != null && errors.incrementAndGet() == 1) {
                        firstError.set(err);
                    }
                } finally {
                    window.release();
                }
            });
        }
        if (!window.tryAcquire(LOOKUP_WINDOW, 120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("lookups still unanswered after 120 s");
        }
        out.put("lookups", keys);
        out.put("lookups_found", found.get());
        check(errors.get() == 0, errors.get() + " lookups differ; first: " + firstError.get());
        check(found.get() == model.state.size(), "found " + found.get() + " keys, expected " + model.state.size());
    }

    /** Prefix-looks up every group (the bucket key) and compares the row sets. */
    private void prefixLookupAll(Table table, PkRows.Layout layout, PkModel model) throws Exception {
        Map<String, Map<Long, int[]>> byGroup = new HashMap<>();
        for (Map.Entry<Long, int[]> e : model.state.entrySet()) {
            byGroup.computeIfAbsent(PkModel.group(e.getKey()), k -> new HashMap<>()).put(e.getKey(), e.getValue());
        }
        Lookuper lookuper = table.newLookup().lookupBy(PkRows.KEY_GROUP).createLookuper();
        List<CompletableFuture<LookupResult>> futures = new ArrayList<>();
        // Groups GROUPS.. do not exist: their prefix lookups must come back empty.
        int groups = PkModel.GROUPS + 3;
        for (int g = 0; g < groups; g++) {
            futures.add(lookuper.lookup(GenericRow.of(BinaryString.fromString(PkModel.group(g)
                    + (g >= PkModel.GROUPS ? "-absent" : "")))));
        }
        long rowsRead = 0;
        for (int g = 0; g < groups; g++) {
            List<InternalRow> got = futures.get(g).get(120, TimeUnit.SECONDS).getRowList();
            Map<Long, int[]> want = g < PkModel.GROUPS ? byGroup.getOrDefault(PkModel.group(g), Map.of()) : Map.of();
            check(got.size() == want.size(), "prefix " + (g < PkModel.GROUPS ? PkModel.group(g) : "absent #" + g)
                    + ": " + got.size() + " rows, expected " + want.size());
            java.util.Set<Long> seen = new java.util.HashSet<>();
            for (InternalRow row : got) {
                check(!row.isNullAt(0), "prefix lookup row with null id");
                long id = row.getLong(0);
                int[] gens = want.get(id);
                check(gens != null, "prefix " + PkModel.group(g) + " returned key " + id + ", not expected");
                check(seen.add(id), "prefix " + PkModel.group(g) + " returned key " + id + " twice");
                String err = layout.diff(row, seed, id, gens);
                check(err == null, "prefix lookup: " + err);
            }
            rowsRead += got.size();
        }
        out.put("prefix_lookups", groups);
        out.put("prefix_rows", rowsRead);
    }

    /**
     * Reads the whole changelog of every bucket and compares, key by key and in offset order,
     * the change types and rows with the model. Returns the bucket of every key seen.
     */
    private Map<Long, Integer> changelog(Admin admin, TablePath path, Table table, PkRows.Layout layout,
                                         PkModel model) throws Exception {
        List<Integer> all = IntStream.range(0, buckets).boxed().collect(Collectors.toList());
        Map<Integer, Long> earliest = admin.listOffsets(path, all, new OffsetSpec.EarliestSpec()).all().get();
        Map<Integer, Long> latest = admin.listOffsets(path, all, new OffsetSpec.LatestSpec()).all().get();
        long total = 0;
        List<Map<String, Object>> perBucket = new ArrayList<>();
        for (int b = 0; b < buckets; b++) {
            check(earliest.get(b) == 0, "bucket " + b + " earliest offset " + earliest.get(b));
            total += latest.get(b) - earliest.get(b);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("bucket", b);
            m.put("latest", latest.get(b));
            perBucket.add(m);
        }
        out.put("offsets", perBucket);
        check(total == model.changeCount, "changelog holds " + total + " records, expected " + model.changeCount);

        Map<Long, Integer> bucketOf = new HashMap<>();
        Map<Long, Integer> position = new HashMap<>();
        Map<String, Long> types = new LinkedHashMap<>();
        long[] next = new long[buckets];
        long read = 0;
        try (LogScanner scanner = table.newScan().createLogScanner()) {
            for (int b = 0; b < buckets; b++) {
                if (latest.get(b) > 0) {
                    scanner.subscribeFromBeginning(b);
                }
            }
            while (read < total) {
                checkDeadline("reading the changelog (read " + read + " of " + total + ")");
                ScanRecords recs = scanner.poll(Duration.ofMillis(500));
                for (TableBucket tb : recs.buckets()) {
                    int b = tb.getBucket();
                    for (ScanRecord rec : recs.records(tb)) {
                        check(rec.logOffset() == next[b], "bucket " + b + ": offset " + rec.logOffset()
                                + ", expected " + next[b]);
                        check(rec.logOffset() < latest.get(b), "bucket " + b + ": offset beyond latest");
                        InternalRow row = rec.getRow();
                        check(!row.isNullAt(0), "changelog row with null id at bucket " + b + " offset " + next[b]);
                        long id = row.getLong(0);
                        Integer prevBucket = bucketOf.put(id, b);
                        check(prevBucket == null || prevBucket == b, "key " + id + " in buckets " + prevBucket
                                + " and " + b);
                        List<PkModel.Change> want = model.changes.get(id);
                        int i = position.merge(id, 1, Integer::sum) - 1;
                        check(want != null && i < want.size(), "key " + id + ": unexpected change #" + (i + 1) + " "
                                + rec.getChangeType().shortString() + " at bucket " + b + " offset " + next[b]);
                        PkModel.Change c = want.get(i);
                        String type = rec.getChangeType().shortString();
                        check(type.equals(c.type), "key " + id + " change #" + (i + 1) + ": " + type
                                + ", expected " + c.type + " (bucket " + b + " offset " + next[b] + ")");
                        String err = layout.diff(row, seed, id, c.gens);
                        check(err == null, "change #" + (i + 1) + " " + type + " of " + err);
                        types.merge(type, 1L, Long::sum);
                        next[b]++;
                        read++;
                    }
                }
            }
        }
        for (Map.Entry<Long, List<PkModel.Change>> e : model.changes.entrySet()) {
            int got = position.getOrDefault(e.getKey(), 0);
            check(got == e.getValue().size(), "key " + e.getKey() + ": " + got + " changes read, expected "
                    + e.getValue().size());
        }
        out.put("changes_read", read);
        out.put("change_types", types);
        return bucketOf;
    }

    /** A limit scan of every bucket returns min(limit, live keys of the bucket) current rows. */
    private void limitScans(Table table, PkRows.Layout layout, PkModel model, Map<Long, Integer> bucketOf,
                            long tableId) throws Exception {
        long[] live = new long[buckets];
        for (Long id : model.state.keySet()) {
            live[bucketOf.get(id)]++;
        }
        long total = 0;
        for (int b = 0; b < buckets; b++) {
            List<InternalRow> got = new ArrayList<>();
            try (BatchScanner scanner = table.newScan().limit(LIMIT).createBatchScanner(new TableBucket(tableId, b))) {
                while (true) {
                    checkDeadline("limit scan of bucket " + b);
                    CloseableIterator<InternalRow> it = scanner.pollBatch(Duration.ofSeconds(5));
                    if (it == null) {
                        break;
                    }
                    while (it.hasNext()) {
                        got.add(it.next());
                    }
                    it.close();
                }
            }
            long want = Math.min(LIMIT, live[b]);
            check(got.size() == want, "limit scan of bucket " + b + ": " + got.size() + " rows, expected " + want);
            java.util.Set<Long> seen = new java.util.HashSet<>();
            for (InternalRow row : got) {
                long id = row.getLong(0);
                check(seen.add(id), "limit scan of bucket " + b + " returned key " + id + " twice");
                int[] gens = model.state.get(id);
                check(gens != null, "limit scan of bucket " + b + " returned key " + id + ", which is not live");
                check(bucketOf.get(id) == b, "limit scan of bucket " + b + " returned key " + id + " of bucket "
                        + bucketOf.get(id));
                String err = layout.diff(row, seed, id, gens);
                check(err == null, "limit scan: " + err);
            }
            total += got.size();
        }
        out.put("limit_scan_rows", total);
    }
}
