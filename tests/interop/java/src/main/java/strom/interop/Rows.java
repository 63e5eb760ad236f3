package strom.interop;

import org.apache.fluss.metadata.Schema;
import org.apache.fluss.row.BinaryString;
import org.apache.fluss.row.Decimal;
import org.apache.fluss.row.GenericRow;
import org.apache.fluss.row.InternalRow;
import org.apache.fluss.row.TimestampLtz;
import org.apache.fluss.row.TimestampNtz;
import org.apache.fluss.types.DataType;
import org.apache.fluss.types.DataTypes;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;

/**
 * The deterministic all-types table shared by every interop client (Java here, Python in
 * tests/interop/python/rows.py). A row is a pure function of (seed, id): any client can
 * regenerate any row without state, so one client's writes can be verified by another.
 * The generator is specified in tests/interop/README.md; both implementations must agree.
 */
final class Rows {
    private Rows() {}

    /** Column names and types, in table order. Column 0 (id) is the row number, never null. */
    static final String[] NAMES = {
        "id", "c_boolean", "c_tinyint", "c_smallint", "c_int", "c_bigint", "c_float", "c_double",
        "c_char", "c_string", "c_binary", "c_bytes", "c_decimal_compact", "c_decimal_big",
        "c_date", "c_time0", "c_time3", "c_ts3", "c_ts6", "c_ltz3", "c_ltz6",
    };

    static final int CHAR_LEN = 8;
    static final int BINARY_LEN = 6;

    static final DataType[] TYPES = {
        DataTypes.BIGINT(),
        DataTypes.BOOLEAN(),
        DataTypes.TINYINT(),
        DataTypes.SMALLINT(),
        DataTypes.INT(),
        DataTypes.BIGINT(),
        DataTypes.FLOAT(),
        DataTypes.DOUBLE(),
        DataTypes.CHAR(CHAR_LEN),
        DataTypes.STRING(),
        DataTypes.BINARY(BINARY_LEN),
        DataTypes.BYTES(),
        DataTypes.DECIMAL(10, 2),
        DataTypes.DECIMAL(28, 6),
        DataTypes.DATE(),
        DataTypes.TIME(0),
        DataTypes.TIME(3),
        DataTypes.TIMESTAMP(3),
        DataTypes.TIMESTAMP(6),
        DataTypes.TIMESTAMP_LTZ(3),
        DataTypes.TIMESTAMP_LTZ(6),
    };

    /** The two columns read by the projection check. */
    static final String[] PROJECTION = {"c_string", "c_decimal_big"};

    static Schema schema() {
        Schema.Builder b = Schema.newBuilder();
        for (int i = 0; i < NAMES.length; i++) {
            b.column(NAMES[i], TYPES[i]);
        }
        return b.build();
    }


    // ------------------------------------------------------------------ generator

    static long splitmix64(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The 64-bit random word of (seed, row id, column). */
    static long word(long seed, long id, int col) {
        return splitmix64(seed ^ splitmix64((id << 6) | col));
    }

    private static final BigInteger TEN28M1 = BigInteger.TEN.pow(28).subtract(BigInteger.ONE);
    private static final BigInteger TWO64 = BigInteger.ONE.shiftLeft(64);
    private static final String CHAR_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    private static final String UNICODE = "h\u00e9llo w\u00f6rld \u2713 \ud834\udd1e \u4e2d\u6587 ";

    /** u mod m for the unsigned 64-bit u and a positive m. */
    static long umod(long u, long m) {
        return Long.remainderUnsigned(u, m);
    }

    /** All columns, in table order. */
    static int[] allColumns() {
        int[] cols = new int[NAMES.length];
        for (int i = 0; i < cols.length; i++) {
            cols[i] = i;
        }
        return cols;
    }

    /**
     * Maps a table's columns to the known columns by name: cols[pos] = index in NAMES. The table
     * may hold any subset of the known columns (a table made by pyfluss has no CHAR column), with
     * `id` first and each column of the known type.
     */
    static int[] columnsOf(org.apache.fluss.types.RowType rowType) {
        List<String> names = rowType.getFieldNames();
        int[] cols = new int[names.size()];
        List<String> known = Arrays.asList(NAMES);
        for (int pos = 0; pos < cols.length; pos++) {
            int c = known.indexOf(names.get(pos));
            if (c < 0) {
                throw new IllegalStateException("table column " + names.get(pos) + " is not an interop column");
            }
            DataType t = rowType.getTypeAt(pos);
            if (!t.copy(true).equals(TYPES[c].copy(true))) {
                throw new IllegalStateException("table column " + names.get(pos) + " has type " + t
                        + ", expected " + TYPES[c]);
            }
            cols[pos] = c;
        }
        if (cols.length == 0 || cols[0] != 0) {
            throw new IllegalStateException("the first table column must be id");
        }
        return cols;
    }

    /** Row `id` of the deterministic table, with the columns cols (see columnsOf). */
    static GenericRow row(long seed, long id, int[] cols) {
        GenericRow row = new GenericRow(cols.length);
        row.setField(0, id);
        for (int pos = 1; pos < cols.length; pos++) {
            row.setField(pos, value(seed, id, cols[pos]));
        }
        return row;
    }

    /** The value of column c (1..20) of row id, as the Fluss internal data structure; null for SQL NULL. */
    static Object value(long seed, long id, int c) {
        long r = word(seed, id, c);
        int kind = (int) (r & 15);
        long u = r >>> 8;
        if (kind == 0) {
            return null;
        }
        switch (c) {
            case 1: // BOOLEAN
                return (u & 1) == 1;
            case 2: // TINYINT
                return kind == 1 ? Byte.MIN_VALUE : kind == 2 ? Byte.MAX_VALUE : kind == 3 ? (byte) 0 : (byte) u;
            case 3: // SMALLINT
                return kind == 1 ? Short.MIN_VALUE : kind == 2 ? Short.MAX_VALUE : kind == 3 ? (short) 0 : (short) u;
            case 4: // INT
                return kind == 1 ? Integer.MIN_VALUE : kind == 2 ? Integer.MAX_VALUE : kind == 3 ? 0 : (int) u;
            case 5: // BIGINT
                return kind == 1 ? Long.MIN_VALUE : kind == 2 ? Long.MAX_VALUE : kind == 3 ? 0L : splitmix64(r);
            case 6: // FLOAT
                switch (kind) {
                    case 1: return -Float.MAX_VALUE;
                    case 2: return Float.POSITIVE_INFINITY;
                    case 3: return -0.0f;
                    case 4: return Float.NaN;
                    case 5: return Float.MIN_VALUE;
                    default: return (float) (umod(u, 2000001L) - 1000000L) / 64.0f;
                }
            case 7: // DOUBLE
                switch (kind) {
                    case 1: return -Double.MAX_VALUE;
                    case 2: return Double.NEGATIVE_INFINITY;
                    case 3: return -0.0;
                    case 4: return Double.NaN;
                    case 5: return Double.MIN_VALUE;
                    default: return (double) (umod(u, 1L << 40) - (1L << 39)) / 1024.0;
                }
            case 8: { // CHAR(8): exactly 8 characters
                if (kind == 3) {
                    return BinaryString.fromString("        ");
                }
                char[] cs = new char[CHAR_LEN];
                long w = u;
                for (int k = 0; k < cs.length; k++) {
                    cs[k] = CHAR_ALPHABET.charAt((int) (w & 63));
                    w >>>= 6;
                }
                return BinaryString.fromString(new String(cs));
            }
            case 9: { // STRING
                if (kind == 3) {
                    return BinaryString.fromString("");
                }
                if (kind == 1) {
                    return BinaryString.fromString(UNICODE + id);
                }
                if (kind == 2) {
                    StringBuilder sb = new StringBuilder();
                    while (sb.length() < 1000) {
                        sb.append(Long.toHexString(splitmix64(r + sb.length())));
                    }
                    return BinaryString.fromString(sb.substring(0, 1000));
                }
                String h = Long.toHexString(u);
                return BinaryString.fromString("s-" + h.repeat((int) umod(u, 5) + 1));
            }
            case 10: { // BINARY(6)
                byte[] b = new byte[BINARY_LEN];
                if (kind == 2) {
                    Arrays.fill(b, (byte) 0xff);
                } else if (kind != 3) {
                    fillBytes(b, r);
                }
                return b;
            }
            case 11: { // BYTES
                if (kind == 3) {
                    return new byte[0];
                }
                byte[] b = new byte[(int) umod(u, 33)];
                fillBytes(b, r);
                return b;
            }
            case 12: { // DECIMAL(10,2)
                long max = 9_999_999_999L;
                long unscaled = kind == 1 ? -max : kind == 2 ? max : kind == 3 ? 0 : umod(u, 2 * max + 1) - max;
                return Decimal.fromUnscaledLong(unscaled, 10, 2);
            }
            case 13: { // DECIMAL(28,6)
                BigInteger unscaled;
                if (kind == 1) {
                    unscaled = TEN28M1.negate();
                } else if (kind == 2) {
                    unscaled = TEN28M1;
                } else if (kind == 3) {
                    unscaled = BigInteger.ZERO;
                } else {
                    BigInteger hi = new BigInteger(Long.toUnsignedString(splitmix64(r)));
                    BigInteger lo = new BigInteger(Long.toUnsignedString(splitmix64(r + 1)));
                    unscaled = hi.multiply(TWO64).add(lo)
                            .mod(TEN28M1.shiftLeft(1).add(BigInteger.ONE)).subtract(TEN28M1);
                }
                return Decimal.fromBigDecimal(new BigDecimal(unscaled, 6), 28, 6);
            }
            case 14: // DATE: days since 1970-01-01
                return kind == 1 ? -719162 : kind == 2 ? 2932896 : kind == 3 ? 0 : (int) (umod(u, 60000) - 10000);
            case 15: // TIME(0): millis of day, whole seconds
                return kind == 1 ? 0 : kind == 2 ? 86399000 : (int) umod(u, 86400) * 1000;
            case 16: // TIME(3)
                return kind == 1 ? 0 : kind == 2 ? 86399999 : (int) umod(u, 86400000);
            case 17: // TIMESTAMP(3)
                return TimestampNtz.fromMillis(millis3(kind, u));
            case 18: // TIMESTAMP(6)
                return TimestampNtz.fromMicros(micros6(kind, u));
            case 19: // TIMESTAMP_LTZ(3)
                return TimestampLtz.fromEpochMillis(millis3(kind, u));
            case 20: // TIMESTAMP_LTZ(6)
                return TimestampLtz.fromEpochMicros(micros6(kind, u));
            default:
                throw new IllegalArgumentException("column " + c);
        }
    }

    private static final long MIN_MILLIS = -62135596800000L; // 0001-01-01T00:00:00
    private static final long MAX_MILLIS = 253402300799999L; // 9999-12-31T23:59:59.999

    static long millis3(int kind, long u) {
        switch (kind) {
            case 1: return MIN_MILLIS;
            case 2: return MAX_MILLIS;
            case 3: return 0;
            case 4: return -1;
            default: return umod(u, 4_000_000_000_000L) - 1_000_000_000_000L;
        }
    }

    /**
     * Microseconds since the epoch. Values before 1970 are whole milliseconds: the released Java
     * client 0.9.1 cannot read a negative micro value with a sub-millisecond part from Arrow
     * (ArrowTimestamp{Ntz,Ltz}ColumnVector divides with truncation, giving a negative
     * nano-of-millisecond that TimestampNtz/TimestampLtz reject). See tests/interop/README.md.
     */
    static long micros6(int kind, long u) {
        switch (kind) {
            case 1: return MIN_MILLIS * 1000;
            case 2: return MAX_MILLIS * 1000 + 999;
            case 3: return 0;
            case 4: return -1000;
            case 5: return 999;
            default: {
                long v = umod(u, 4_000_000_000_000_000L) - 1_000_000_000_000_000L;
                return v < 0 ? v - Math.floorMod(v, 1000L) : v;
            }
        }
    }

    /** Fills b with the little-endian bytes of splitmix64(r), splitmix64(r + 1), ... */
    static void fillBytes(byte[] b, long r) {
        long w = 0;
        for (int k = 0; k < b.length; k++) {
            if (k % 8 == 0) {
                w = splitmix64(r + k / 8);
            }
            b[k] = (byte) (w >>> (8 * (k % 8)));
        }
    }

    // ------------------------------------------------------------------ comparison

    /** Field getters for a row whose field pos holds the known column cols[pos]. */
    static InternalRow.FieldGetter[] getters(int[] cols) {
        InternalRow.FieldGetter[] g = new InternalRow.FieldGetter[cols.length];
        for (int pos = 0; pos < cols.length; pos++) {
            g[pos] = InternalRow.createFieldGetter(TYPES[cols[pos]], pos);
        }
        return g;
    }

    static boolean same(Object expected, Object actual) {
        if (expected == null || actual == null) {
            return expected == actual;
        }
        if (expected instanceof byte[] && actual instanceof byte[]) {
            return Arrays.equals((byte[]) expected, (byte[]) actual);
        }
        if (expected instanceof BinaryString && actual instanceof BinaryString) {
            return expected.toString().equals(actual.toString());
        }
        // Float/Double equals compare bit patterns (NaN == NaN, -0.0 != 0.0); Decimal equals
        // compares values; TimestampNtz/Ltz compare millis and nanos.
        return expected.equals(actual);
    }

    static String show(Object v) {
        if (v instanceof byte[]) {
            return "0x" + hex((byte[]) v);
        }
        return v == null ? "null" : v + " (" + v.getClass().getSimpleName() + ")";
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x));
        }
        return sb.toString();
    }
}
