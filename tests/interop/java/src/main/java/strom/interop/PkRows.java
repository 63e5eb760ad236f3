package strom.interop;

import org.apache.fluss.metadata.Schema;
import org.apache.fluss.row.BinaryString;
import org.apache.fluss.row.GenericRow;
import org.apache.fluss.row.InternalRow;
import org.apache.fluss.row.TimestampLtz;
import org.apache.fluss.row.TimestampNtz;
import org.apache.fluss.types.DataType;
import org.apache.fluss.types.DataTypes;
import org.apache.fluss.types.RowType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Rows of the primary-key interop table: `id` BIGINT, `k_grp` STRING (primary key (k_grp, id),
 * bucket key k_grp), then the value columns of the all-types table (Rows). A value is the
 * all-types generator's value with seed (seed + generation), except that the largest timestamps
 * stop at 9999-12-30T21:59:59.999999: pyfluss 1.0.0 can neither write a TIMESTAMP nor read a
 * TIMESTAMP/TIMESTAMP_LTZ value beyond that through its row API (tests/interop/README.md).
 */
final class PkRows {
    private PkRows() {}

    static final String KEY_GROUP = "k_grp";
    /** 9999-12-30T21:59:59.999, the last millisecond pyfluss 1.0.0 converts. */
    static final long PK_MAX_MILLIS = 253402207199999L;

    /** Value of column c (index into Rows.NAMES, 1..20) of key id written by generation gen. */
    static Object value(long seed, int gen, long id, int c) {
        if (gen == PkModel.NULL_GEN) {
            return null;
        }
        long s = seed + gen;
        if (c >= 17 && c <= 20 && (Rows.word(s, id, c) & 15) == 2) {
            switch (c) {
                case 17: return TimestampNtz.fromMillis(PK_MAX_MILLIS);
                case 18: return TimestampNtz.fromMicros(PK_MAX_MILLIS * 1000 + 999);
                case 19: return TimestampLtz.fromEpochMillis(PK_MAX_MILLIS);
                default: return TimestampLtz.fromEpochMicros(PK_MAX_MILLIS * 1000 + 999);
            }
        }
        return Rows.value(s, id, c);
    }

    /** The schema a table made by this driver has: every value column of the all-types table. */
    static Schema schema() {
        Schema.Builder b = Schema.newBuilder();
        b.column("id", DataTypes.BIGINT());
        b.column(KEY_GROUP, DataTypes.STRING());
        for (int c = 1; c < Rows.NAMES.length; c++) {
            b.column(Rows.NAMES[c], Rows.TYPES[c]);
        }
        b.primaryKey(KEY_GROUP, "id");
        return b.build();
    }

    /** The layout of an existing table: value columns (indexes into Rows.NAMES) after id and k_grp. */
    static final class Layout {
        final int[] valueCols;
        final String[] valueNames;
        final DataType[] types;
        final InternalRow.FieldGetter[] getters;

        Layout(RowType rowType) {
            List<String> names = rowType.getFieldNames();
            if (names.size() < 2 || !names.get(0).equals("id") || !names.get(1).equals(KEY_GROUP)) {
                throw new IllegalStateException("a primary-key interop table starts with id, k_grp; got " + names);
            }
            check(rowType.getTypeAt(0), DataTypes.BIGINT(), "id");
            check(rowType.getTypeAt(1), DataTypes.STRING(), KEY_GROUP);
            List<String> known = Arrays.asList(Rows.NAMES);
            valueCols = new int[names.size() - 2];
            valueNames = new String[valueCols.length];
            for (int i = 0; i < valueCols.length; i++) {
                String n = names.get(i + 2);
                int c = known.indexOf(n);
                if (c < 1) {
                    throw new IllegalStateException("table column " + n + " is not an interop value column");
                }
                check(rowType.getTypeAt(i + 2), Rows.TYPES[c], n);
                valueCols[i] = c;
                valueNames[i] = n;
            }
            types = rowType.getChildren().toArray(new DataType[0]);
            getters = new InternalRow.FieldGetter[types.length];
            for (int pos = 0; pos < types.length; pos++) {
                getters[pos] = InternalRow.createFieldGetter(types[pos], pos);
            }
        }

        private static void check(DataType actual, DataType expected, String name) {
            if (!actual.copy(true).equals(expected.copy(true))) {
                throw new IllegalStateException("table column " + name + " has type " + actual + ", expected " + expected);
            }
        }

        int arity() {
            return valueCols.length + 2;
        }

        /** Partial-update target columns: the key columns and the PARTIAL value columns present. */
        String[] partialTargets() {
            List<String> t = new ArrayList<>(Arrays.asList("id", KEY_GROUP));
            List<String> p = Arrays.asList(PkModel.PARTIAL);
            for (String n : valueNames) {
                if (p.contains(n)) {
                    t.add(n);
                }
            }
            return t.toArray(new String[0]);
        }

        /** A full row of key id with value generations gens (NULL_GEN = null). */
        GenericRow row(long seed, long id, int[] gens) {
            GenericRow r = new GenericRow(arity());
            r.setField(0, id);
            r.setField(1, BinaryString.fromString(PkModel.group(id)));
            for (int i = 0; i < valueCols.length; i++) {
                r.setField(i + 2, value(seed, gens[i], id, valueCols[i]));
            }
            return r;
        }

        /** A row holding only the key of id (every value column null): what a delete sends. */
        GenericRow keyOnly(long id) {
            GenericRow r = new GenericRow(arity());
            r.setField(0, id);
            r.setField(1, BinaryString.fromString(PkModel.group(id)));
            return r;
        }

        /** Null if `row` is key id with value generations gens, else the first difference. */
        String diff(InternalRow row, long seed, long id, int[] gens) {
            if (row.getFieldCount() != arity()) {
                return "key " + id + ": row has " + row.getFieldCount() + " fields, expected " + arity();
            }
            if (row.isNullAt(0) || row.getLong(0) != id) {
                return "key " + id + ": id read as " + (row.isNullAt(0) ? "null" : row.getLong(0));
            }
            Object grp = getters[1].getFieldOrNull(row);
            if (grp == null || !grp.toString().equals(PkModel.group(id))) {
                return "key " + id + ": k_grp read as " + grp + ", expected " + PkModel.group(id);
            }
            for (int i = 0; i < valueCols.length; i++) {
                Object exp = value(seed, gens[i], id, valueCols[i]);
                Object act = getters[i + 2].getFieldOrNull(row);
                if (!Rows.same(exp, act)) {
                    return "key " + id + " column " + valueNames[i] + " (generation " + gens[i] + "): expected "
                            + Rows.show(exp) + ", read " + Rows.show(act);
                }
            }
            return null;
        }
    }
}
