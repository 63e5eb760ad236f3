package strom.interop;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The primary-key workload shared by the interop clients (Python twin: tests/interop/python/pk.py,
 * specified in tests/interop/README.md) and the model of what a server must hold after it.
 *
 * <p>Keys are (k_grp, id) with k_grp a function of id; the bucket key is k_grp alone. Every write
 * is a "generation": full upserts write generation g of every value column, partial updates
 * write generation g of the PARTIAL columns only. The model keeps, per key, the generation of
 * each value column (or NULL_GEN) and the changelog the key must have produced, in order.
 */
final class PkModel {
    /** Number of distinct k_grp values. */
    static final int GROUPS = 97;
    /** Keys beyond the N rows touched by the partial and delete phases. */
    static final int EXTRA = 50;
    /** Value columns written by the partial-update phase (the key columns come on top). */
    static final String[] PARTIAL = {"c_int", "c_string", "c_decimal_big", "c_ltz6"};
    /** The phases in their order; a run executes a subset of them, always in this order. */
    static final String[] PHASES = {"insert", "update", "partial", "delete", "reinsert"};

    static final int NULL_GEN = -1;

    static String group(long id) {
        return "grp-\u00fc" + Math.floorMod(id, (long) GROUPS);
    }

    /** One step of a phase: an operation on one key. */
    enum Op { UPSERT, PARTIAL, DELETE }

    static final class Step {
        final long id;
        final Op op;
        final int gen;

        Step(long id, Op op, int gen) {
            this.id = id;
            this.op = op;
            this.gen = gen;
        }
    }

    /** The steps of phase `name` for a run over ids 0..rows-1, in the order they are written. */
    static List<Step> steps(String name, long rows) {
        List<Step> s = new ArrayList<>();
        switch (name) {
            case "insert":
                for (long id = 0; id < rows; id++) {
                    s.add(new Step(id, Op.UPSERT, 0));
                }
                break;
            case "update":
                for (long id = 0; id < rows; id++) {
                    long m = id % 10;
                    if (m == 1 || m == 2) {
                        s.add(new Step(id, Op.UPSERT, 1));
                    }
                }
                break;
            case "partial":
                for (long id = 0; id < rows; id++) {
                    long m = id % 10;
                    if (m == 2 || m == 3 || m == 4) {
                        s.add(new Step(id, Op.PARTIAL, 2));
                    }
                }
                for (long id = rows; id < rows + EXTRA; id++) {
                    s.add(new Step(id, Op.PARTIAL, 2)); // keys that do not exist yet
                }
                break;
            case "delete":
                for (long id = 0; id < rows; id++) {
                    long m = id % 10;
                    if (m == 4 || m == 5) {
                        s.add(new Step(id, Op.DELETE, 0));
                    }
                }
                for (long id = rows + EXTRA; id < rows + 2 * EXTRA; id++) {
                    s.add(new Step(id, Op.DELETE, 0)); // keys that never existed: no change
                }
                break;
            case "reinsert":
                for (long id = 0; id < rows; id++) {
                    if (id % 20 == 5) {
                        s.add(new Step(id, Op.UPSERT, 3));
                    }
                }
                break;
            default:
                throw new IllegalArgumentException("unknown phase " + name);
        }
        return s;
    }

    static List<String> parsePhases(String csv) {
        List<String> out = new ArrayList<>();
        List<String> all = Arrays.asList(PHASES);
        int last = -1;
        for (String p : csv.split(",")) {
            p = p.trim();
            int i = all.indexOf(p);
            if (i < 0) {
                throw new IllegalArgumentException("unknown phase " + p + " (phases: " + String.join(",", PHASES) + ")");
            }
            if (i <= last) {
                throw new IllegalArgumentException("phases must be given in the order " + String.join(",", PHASES));
            }
            last = i;
            out.add(p);
        }
        return out;
    }

    /** A change the server must log: the change type (+I, -U, +U, -D) and the row's generations. */
    static final class Change {
        final String type;
        final int[] gens;

        Change(String type, int[] gens) {
            this.type = type;
            this.gens = gens;
        }
    }

    /** Value columns of the table (names as in Rows.NAMES), in table order after id and k_grp. */
    final String[] valueNames;
    final boolean[] partialColumn;
    final long rows;
    final long seed;
    /** Current generations per key; absent = no row. */
    final Map<Long, int[]> state = new HashMap<>();
    /** Changes per key, in log order. */
    final Map<Long, List<Change>> changes = new HashMap<>();
    long changeCount;

    PkModel(String[] valueNames, long rows, long seed) {
        this.valueNames = valueNames;
        this.rows = rows;
        this.seed = seed;
        this.partialColumn = new boolean[valueNames.length];
        List<String> p = Arrays.asList(PARTIAL);
        for (int i = 0; i < valueNames.length; i++) {
            partialColumn[i] = p.contains(valueNames[i]);
        }
    }

    /** Applies one step as the default merge engine with changelog image FULL does. */
    void apply(Step s) {
        int[] old = state.get(s.id);
        switch (s.op) {
            case UPSERT: {
                int[] now = new int[valueNames.length];
                Arrays.fill(now, s.gen);
                put(s.id, old, now);
                break;
            }
            case PARTIAL: {
                int[] now = old == null ? new int[valueNames.length] : old.clone();
                if (old == null) {
                    Arrays.fill(now, NULL_GEN);
                }
                for (int i = 0; i < now.length; i++) {
                    if (partialColumn[i]) {
                        now[i] = s.gen;
                    }
                }
                put(s.id, old, now);
                break;
            }
            case DELETE:
                if (old != null) {
                    state.remove(s.id);
                    log(s.id, "-D", old);
                }
                break;
            default:
                throw new IllegalStateException();
        }
    }

    private void put(long id, int[] old, int[] now) {
        state.put(id, now);
        if (old == null) {
            log(id, "+I", now);
        } else {
            log(id, "-U", old);
            log(id, "+U", now);
        }
    }

    private void log(long id, String type, int[] gens) {
        changes.computeIfAbsent(id, k -> new ArrayList<>()).add(new Change(type, gens));
        changeCount++;
    }

    /** Every key a run may have touched: 0 .. rows + 2*EXTRA - 1. */
    long keySpace() {
        return rows + 2L * EXTRA;
    }

    static PkModel after(String[] valueNames, long rows, long seed, List<String> phases) {
        PkModel m = new PkModel(valueNames, rows, seed);
        for (String p : phases) {
            for (Step s : steps(p, rows)) {
                m.apply(s);
            }
        }
        return m;
    }
}
