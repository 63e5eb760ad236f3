package strom.interop;

import org.apache.fluss.client.Connection;
import org.apache.fluss.client.ConnectionFactory;
import org.apache.fluss.client.admin.Admin;
import org.apache.fluss.client.lookup.LookupResult;
import org.apache.fluss.client.lookup.Lookuper;
import org.apache.fluss.client.table.Table;
import org.apache.fluss.client.table.scanner.ScanRecord;
import org.apache.fluss.client.table.scanner.log.LogScanner;
import org.apache.fluss.client.table.scanner.log.ScanRecords;
import org.apache.fluss.client.table.writer.UpsertWriter;
import org.apache.fluss.config.Configuration;
import org.apache.fluss.metadata.AggFunctions;
import org.apache.fluss.metadata.DatabaseDescriptor;
import org.apache.fluss.metadata.Schema;
import org.apache.fluss.metadata.TableDescriptor;
import org.apache.fluss.metadata.TablePath;
import org.apache.fluss.record.ChangeType;
import org.apache.fluss.row.BinaryString;
import org.apache.fluss.row.GenericRow;
import org.apache.fluss.row.InternalRow;
import org.apache.fluss.types.DataTypes;
import org.roaringbitmap.longlong.LongIterator;
import org.roaringbitmap.longlong.Roaring64Bitmap;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;

/**
 * The two primary-key features beyond plain upserts, on the released Java client 0.9.1:
 *
 * <pre>
 * PkExtrasInterop BOOTSTRAP SCENARIO [options]
 *   rbm64-golden --out FILE [--seed S]   write the rbm64 cases (Java's own bytes) to FILE; no
 *                                       server needed (BOOTSTRAP is ignored)
 *   rbm64-table  [--seed S] [--db D]     an aggregation table with an rbm64 column: every case's
 *                                       two bitmaps upserted under one key, the looked-up
 *                                       union read back by Java and compared with Java's own
 *                                       union; then bad bytes: the write fails, nothing changes
 *   lookup-insert [--db D]               lookups with insertIfNotExists on an auto-increment
 *                                       table: absent keys get a row (key, next id, nulls),
 *                                       present keys are returned unchanged, the changelog
 *                                       holds one +I per inserted key
 * common: --timeout S (default 600)
 * </pre>
 *
 * Prints one line of JSON on stdout; exit 0 only if everything matched.
 */
public final class PkExtrasInterop {
    private final String bootstrap;
    private final String scenario;
    private long seed = 20260101L;
    private String db;
    private String outFile;
    private final Map<String, Object> out = new LinkedHashMap<>();

    private PkExtrasInterop(String bootstrap, String scenario) {
        this.bootstrap = bootstrap;
        this.scenario = scenario;
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: PkExtrasInterop BOOTSTRAP rbm64-golden|rbm64-table|lookup-insert [options]");
            System.exit(2);
        }
        PkExtrasInterop p = new PkExtrasInterop(args[0], args[1]);
        for (int i = 2; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--seed": p.seed = Long.parseLong(args[i + 1]); break;
                case "--db": p.db = args[i + 1]; break;
                case "--out": p.outFile = args[i + 1]; break;
                case "--timeout": break;  // The ctest timeout bounds the run.
                default:
                    System.err.println("PkExtrasInterop: unknown option " + args[i]);
                    System.exit(2);
            }
        }
        if (p.db == null) {
            p.db = "interop_java_extras_" + Long.toHexString(System.nanoTime() & 0xffffffL);
        }
        int rc;
        long t0 = System.nanoTime();
        try {
            p.out.put("scenario", p.scenario);
            switch (p.scenario) {
                case "rbm64-golden": p.golden(); break;
                case "rbm64-table": p.rbm64Table(); break;
                case "lookup-insert": p.lookupInsert(); break;
                default: throw new IllegalArgumentException("unknown scenario " + p.scenario);
            }
            p.out.put("ok", true);
            rc = 0;
        } catch (Throwable e) {
            e.printStackTrace(System.err);
            p.out.put("ok", false);
            p.out.put("error", String.valueOf(e.getMessage() == null ? e : e.getMessage()));
            rc = 1;
        }
        p.out.put("seconds", Math.round((System.nanoTime() - t0) / 1e6) / 1000.0);
        System.out.println(StromInterop.json(p.out));
        System.out.flush();
        Runtime.getRuntime().halt(rc);
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

    // ------------------------------------------------------------------ rbm64 cases

    /** One union case: two bitmaps a and b. */
    static final class Case {
        final String name;
        final Roaring64Bitmap a;
        final Roaring64Bitmap b;

        Case(String name, Roaring64Bitmap a, Roaring64Bitmap b) {
            this.name = name;
            this.a = a;
            this.b = b;
        }
    }

    private static Roaring64Bitmap of(long... values) {
        Roaring64Bitmap b = new Roaring64Bitmap();
        for (long v : values) {
            b.addLong(v);
        }
        return b;
    }

    /** A value with the given 48-bit key and 16-bit low part. */
    private static long v(long key48, int low) {
        return (key48 << 16) | (low & 0xffff);
    }

    /**
     * The cases: empty, one small container (arrays and runs), random 64-bit values (a root with
     * up to 256 children), dense bitmap containers, long runs, values above 2^32 and 2^48 up to
     * 2^64 - 1, keys shaped to need every node kind, a bitmap whose history had removals (shrunk
     * nodes, leaves with prefixes, empty container slots), and hundreds of containers.
     */
    static List<Case> cases(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("empty_empty", new Roaring64Bitmap(), new Roaring64Bitmap()));
        cases.add(new Case("empty_small", new Roaring64Bitmap(), of(1, 2, 3)));
        cases.add(new Case("small_small", of(1, 2, 3), of(3, 1000, 65535)));
        Roaring64Bitmap run = new Roaring64Bitmap();
        run.addRange(5, 8);
        run.runOptimize();
        cases.add(new Case("run_small", run, of(1, 2, 3)));

        Roaring64Bitmap sa = new Roaring64Bitmap();
        Roaring64Bitmap sb = new Roaring64Bitmap();
        for (int i = 0; i < 300; i++) {
            sa.addLong(r.nextLong());
            sb.addLong(r.nextLong());
        }
        sb.addLong(sa.first());
        cases.add(new Case("sparse_random", sa, sb));

        Roaring64Bitmap da = new Roaring64Bitmap();
        Roaring64Bitmap db = new Roaring64Bitmap();
        for (int i = 0; i < 10_000; i++) {
            da.addLong(r.nextLong(0, 131_072));
            db.addLong(65_536 + r.nextLong(0, 131_072));
        }
        cases.add(new Case("dense", da, db));

        Roaring64Bitmap ra = new Roaring64Bitmap();
        ra.addRange(1_000, 30_000);
        ra.addRange(70_000, 140_000);
        ra.addRange(1L << 40, (1L << 40) + 200_000);
        ra.runOptimize();
        Roaring64Bitmap rb = new Roaring64Bitmap();
        rb.addRange(20_000, 80_000);
        rb.addLong(135_000);
        for (int i = 0; i < 50; i++) {
            rb.addLong(r.nextLong(0, 200_000));
        }
        rb.runOptimize();
        cases.add(new Case("runs", ra, rb));

        Roaring64Bitmap ha = new Roaring64Bitmap();
        Roaring64Bitmap hb = new Roaring64Bitmap();
        for (int i = 0; i < 2_000; i++) {
            ha.addLong((1L << 32) + r.nextLong(0, 1L << 20));
            hb.addLong((1L << 32) + r.nextLong(0, 1L << 22));
        }
        hb.addLong(7);
        hb.addLong((1L << 32) - 1);
        cases.add(new Case("above_2_32", ha, hb));

        cases.add(new Case("above_2_48",
                of(1L << 48, (1L << 48) + 1, (1L << 48) + 65_536, -1L, Long.MIN_VALUE, Long.MAX_VALUE),
                of(0xFFFF_FFFF_FFFF_0000L, -2L, (1L << 63) + 5, (3L << 48) + 77, 0L)));

        // Node16 (10 children at depth 5), Node48 (30 at depth 4), Node256 (200 at depth 2).
        Roaring64Bitmap na = new Roaring64Bitmap();
        Roaring64Bitmap nb = new Roaring64Bitmap();
        for (int i = 0; i < 10; i++) {
            na.addLong(v(i, i * 7));
        }
        for (int i = 0; i < 30; i++) {
            na.addLong(v(0x0000_0001_0000L | ((long) i << 8), i));
        }
        for (int i = 0; i < 200; i++) {
            nb.addLong(v(0x0001_0000_0000L | ((long) i << 24), 65_535 - i));
        }
        for (int i = 0; i < 5; i++) {
            nb.addLong(v(0x0000_0001_0000L | ((long) (i * 3) << 8), 1));
        }
        cases.add(new Case("node_kinds", na, nb));

        // A history with removals: containers dropped (empty slots), nodes shrunk.
        Roaring64Bitmap xa = new Roaring64Bitmap();
        for (int i = 0; i < 3_000; i++) {
            xa.addLong(v(r.nextLong(0, 64) * 0x0101_0101L, r.nextInt(1 << 16)));
        }
        Roaring64Bitmap gone = new Roaring64Bitmap();
        for (long key = 0; key < 64; key += 2) {
            gone.addRange(v(key * 0x0101_0101L, 0), v(key * 0x0101_0101L, 0xffff) + 1);
        }
        xa.andNot(gone);
        long[] some = xa.toArray();
        for (int i = 0; i < some.length; i += 3) {
            xa.removeLong(some[i]);
        }
        Roaring64Bitmap xb = new Roaring64Bitmap();
        for (int i = 0; i < 500; i++) {
            xb.addLong(v(r.nextLong(0, 128) * 0x0101_0101L, r.nextInt(1 << 16)));
        }
        cases.add(new Case("with_removals", xa, xb));

        Roaring64Bitmap ma = new Roaring64Bitmap();
        Roaring64Bitmap mb = new Roaring64Bitmap();
        for (int i = 0; i < 600; i++) {
            ma.addLong(v(i * 977L, i));
            mb.addLong(v(i * 1_013L, i * 3));
        }
        cases.add(new Case("many_keys", ma, mb));
        return cases;
    }

    /** Fluss's RoaringBitmapUtils.serializeRoaringBitmap64: runOptimize, then DataOutput. */
    static byte[] serialize(Roaring64Bitmap b) throws IOException {
        b.runOptimize();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream data = new DataOutputStream(bytes)) {
            b.serialize(data);
        }
        return bytes.toByteArray();
    }

    /** Fluss's RoaringBitmapUtils.deserializeRoaringBitmap64. */
    static Roaring64Bitmap deserialize(byte[] bytes) throws IOException {
        Roaring64Bitmap b = new Roaring64Bitmap();
        b.deserialize(ByteBuffer.wrap(bytes));
        return b;
    }

    /** What Fluss's FieldRoaringBitmap64Agg stores for (acc, input). */
    static byte[] flussUnion(byte[] acc, byte[] input) throws IOException {
        Roaring64Bitmap a = deserialize(acc);
        a.or(deserialize(input));
        return serialize(a);
    }

    private static long sum(Roaring64Bitmap b) {
        long s = 0;
        LongIterator it = b.getLongIterator();
        while (it.hasNext()) {
            s += it.next();
        }
        return s;
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 2);
        for (byte x : bytes) {
            sb.append(Character.forDigit((x >> 4) & 15, 16)).append(Character.forDigit(x & 15, 16));
        }
        return sb.toString();
    }

    private void golden() throws IOException {
        if (outFile == null) {
            throw new IllegalArgumentException("rbm64-golden needs --out FILE");
        }
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(Paths.get(outFile), StandardCharsets.UTF_8))) {
            w.println("# Roaring64Bitmap bytes written by Java (RoaringBitmap 1.3.0, as Fluss 0.9.1's");
            w.println("# RoaringBitmapUtils.serializeRoaringBitmap64 writes them). Made by:");
            w.println("#   tests/interop/run-java.sh - rbm64-golden --seed " + seed + " --out src/kv/testdata/rbm64_java.txt");
            w.println("# Per case three lines NAME.a, NAME.b, NAME.or (Fluss's rbm64 aggregate of a then b):");
            w.println("# name cardinality sum-of-values-mod-2^64 (signed) hex-bytes");
            int n = 0;
            for (Case c : cases(seed)) {
                byte[] a = serialize(c.a);
                byte[] b = serialize(c.b);
                byte[] u = flussUnion(a, b);
                Roaring64Bitmap ub = deserialize(u);
                w.println(c.name + ".a " + c.a.getLongCardinality() + " " + sum(c.a) + " " + hex(a));
                w.println(c.name + ".b " + c.b.getLongCardinality() + " " + sum(c.b) + " " + hex(b));
                w.println(c.name + ".or " + ub.getLongCardinality() + " " + sum(ub) + " " + hex(u));
                n++;
            }
            out.put("cases", n);
        }
    }

    /**
     * Java reads Strom's union: the same values as Java's own union, every value found by
     * contains (the tree's key bytes), and the bitmap keeps working (add, remove, or, and a
     * second serialize round trip).
     */
    private static void checkUnion(String name, byte[] fromServer, Roaring64Bitmap expected, long seed)
            throws IOException {
        Roaring64Bitmap got = deserialize(fromServer);
        check(Arrays.equals(got.toArray(), expected.toArray()),
                name + ": union values differ (" + got.getLongCardinality() + " vs "
                        + expected.getLongCardinality() + ")");
        check(got.getLongCardinality() == expected.getLongCardinality(), name + ": cardinality");
        LongIterator it = expected.getLongIterator();
        while (it.hasNext()) {
            long x = it.next();
            check(got.contains(x), name + ": contains(" + Long.toUnsignedString(x) + ") is false");
        }
        SplittableRandom r = new SplittableRandom(seed);
        Roaring64Bitmap mine = expected.clone();
        for (int i = 0; i < 200; i++) {
            long x = i % 2 == 0 ? r.nextLong() : r.nextLong(0, 1L << 20);
            check(got.contains(x) == mine.contains(x), name + ": contains of a random value");
            got.addLong(x);
            mine.addLong(x);
        }
        if (!mine.isEmpty()) {
            long first = mine.first();
            got.removeLong(first);
            mine.removeLong(first);
        }
        Roaring64Bitmap extra = of(3, 1L << 33, -7L);
        got.or(extra);
        mine.or(extra);
        Roaring64Bitmap again = deserialize(serialize(got));
        check(Arrays.equals(again.toArray(), mine.toArray()), name + ": values after Java's own edits differ");
    }

    private void rbm64Table() throws Exception {
        TablePath path = TablePath.of(db, "rbm64_agg");
        out.put("table", path.toString());
        List<Case> cases = cases(seed);
        try (Connection conn = connect(); Admin admin = conn.getAdmin()) {
            admin.createDatabase(db, DatabaseDescriptor.builder().comment("strom interop").build(), false).get();
            Schema schema = Schema.newBuilder()
                    .column("id", DataTypes.INT())
                    .column("bm", DataTypes.BYTES(), AggFunctions.RBM64())
                    .primaryKey("id")
                    .build();
            TableDescriptor desc = TableDescriptor.builder()
                    .schema(schema)
                    .distributedBy(2, "id")
                    .property("table.merge-engine", "aggregation")
                    .build();
            admin.createTable(path, desc, false).get();
            Map<Integer, byte[]> stored = new HashMap<>();
            try (Table table = conn.getTable(path)) {
                UpsertWriter writer = table.newUpsert().createWriter();
                // Round 1: every case's a; round 2: every case's b (aggregated by the server).
                for (int round = 0; round < 2; round++) {
                    for (int i = 0; i < cases.size(); i++) {
                        Case c = cases.get(i);
                        writer.upsert(GenericRow.of(i, serialize(round == 0 ? c.a : c.b)));
                    }
                    writer.flush();
                }
                Lookuper lookuper = table.newLookup().createLookuper();
                for (int i = 0; i < cases.size(); i++) {
                    Case c = cases.get(i);
                    LookupResult res = lookuper.lookup(GenericRow.of(i)).get();
                    InternalRow row = res.getSingletonRow();
                    check(row != null, c.name + ": key missing");
                    byte[] got = row.getBytes(1);
                    Roaring64Bitmap expected = c.a.clone();
                    expected.or(c.b);
                    checkUnion(c.name, got, expected, seed + i);
                    stored.put(i, got);
                }
                out.put("cases", cases.size());

                // Bad bytes for a key that holds a bitmap: the write fails with a Fluss error and
                // the stored value is unchanged.
                UpsertWriter bad = table.newUpsert().createWriter();
                String error = null;
                try {
                    bad.upsert(GenericRow.of(4, new byte[] {1, 2, 3})).get();
                } catch (ExecutionException e) {
                    error = String.valueOf(e.getCause()).split("\n", 2)[0];
                }
                check(error != null, "bad rbm64 bytes were accepted");
                out.put("bad_bytes_error", error);
                byte[] after = lookuper.lookup(GenericRow.of(4)).get().getSingletonRow().getBytes(1);
                check(Arrays.equals(after, stored.get(4)), "bad bytes changed the stored bitmap");
            }
            admin.dropTable(path, false).get();
            admin.dropDatabase(db, true, true).get();
        }
    }

    // ------------------------------------------------------------------ lookup-insert

    private void lookupInsert() throws Exception {
        TablePath path = TablePath.of(db, "lookup_insert");
        out.put("table", path.toString());
        try (Connection conn = connect(); Admin admin = conn.getAdmin()) {
            admin.createDatabase(db, DatabaseDescriptor.builder().comment("strom interop").build(), false).get();
            Schema schema = Schema.newBuilder()
                    .column("name", DataTypes.STRING())
                    .column("uid", DataTypes.BIGINT())
                    .column("note", DataTypes.STRING())
                    .primaryKey("name")
                    .enableAutoIncrement("uid")
                    .build();
            TableDescriptor desc = TableDescriptor.builder().schema(schema).distributedBy(3, "name").build();
            admin.createTable(path, desc, false).get();
            try (Table table = conn.getTable(path)) {
                // One present key, written with a note.
                UpsertWriter writer = table.newUpsert().partialUpdate("name", "note").createWriter();
                writer.upsert(GenericRow.of(BinaryString.fromString("present"), null,
                        BinaryString.fromString("kept"))).get();
                Lookuper plain = table.newLookup().createLookuper();
                InternalRow present = plain.lookup(GenericRow.of(BinaryString.fromString("present")))
                        .get().getSingletonRow();
                check(present != null, "present key missing");
                long presentUid = present.getLong(1);

                Lookuper insert = table.newLookup().enableInsertIfNotExists().createLookuper();
                Map<String, Long> uids = new HashMap<>();
                int n = 200;
                List<java.util.concurrent.CompletableFuture<LookupResult>> futures = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    futures.add(insert.lookup(GenericRow.of(BinaryString.fromString("k" + i))));
                }
                for (int i = 0; i < n; i++) {
                    InternalRow row = futures.get(i).get().getSingletonRow();
                    check(row != null, "lookup-insert returned no row for k" + i);
                    check(row.getString(0).toString().equals("k" + i), "wrong key for k" + i);
                    check(!row.isNullAt(1), "no auto-increment id for k" + i);
                    check(row.isNullAt(2), "non-key column not null for k" + i);
                    check(uids.put("k" + i, row.getLong(1)) == null, "key twice");
                }
                check(new java.util.HashSet<>(uids.values()).size() == n, "auto-increment ids repeat");
                check(!uids.containsValue(presentUid), "an id was given twice");
                // Again: the same rows, nothing new inserted.
                futures.clear();
                for (int i = 0; i < n; i++) {
                    futures.add(insert.lookup(GenericRow.of(BinaryString.fromString("k" + i))));
                }
                for (int i = 0; i < n; i++) {
                    InternalRow row = futures.get(i).get().getSingletonRow();
                    check(row.getLong(1) == uids.get("k" + i), "second lookup-insert changed k" + i);
                }
                InternalRow again = insert.lookup(GenericRow.of(BinaryString.fromString("present")))
                        .get().getSingletonRow();
                check(again.getLong(1) == presentUid && again.getString(2).toString().equals("kept"),
                        "lookup-insert changed a present row");
                InternalRow viaPlain = plain.lookup(GenericRow.of(BinaryString.fromString("k7"))).get()
                        .getSingletonRow();
                check(viaPlain != null && viaPlain.getLong(1) == uids.get("k7"), "plain lookup of an inserted key");
                out.put("inserted", n);

                // The changelog: one +I per inserted key (plus the present one's), nothing else.
                int buckets = table.getTableInfo().getNumBuckets();
                Map<String, Integer> inserts = new HashMap<>();
                int others = 0;
                try (LogScanner scanner = table.newScan().createLogScanner()) {
                    for (int b = 0; b < buckets; b++) {
                        scanner.subscribeFromBeginning(b);
                    }
                    long deadline = System.nanoTime() + 60_000_000_000L;
                    while (inserts.size() < n + 1 && System.nanoTime() < deadline) {
                        ScanRecords recs = scanner.poll(Duration.ofMillis(500));
                        for (ScanRecord rec : recs) {
                            if (rec.getChangeType() == ChangeType.INSERT) {
                                inserts.merge(rec.getRow().getString(0).toString(), 1, Integer::sum);
                            } else {
                                others++;
                            }
                        }
                    }
                }
                check(inserts.size() == n + 1, "changelog has " + inserts.size() + " inserted keys, want " + (n + 1));
                check(inserts.values().stream().allMatch(c -> c == 1), "a key was inserted twice");
                check(others == 0, "changelog has " + others + " records other than +I");
                out.put("changelog_inserts", inserts.size());
            }
            admin.dropTable(path, false).get();
            admin.dropDatabase(db, true, true).get();
        }
    }
}
