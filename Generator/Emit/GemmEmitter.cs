// Register-blocked matrix kernels with every size a literal. Two forms cover all conv and dense passes:
//  - Broadcast form  C[r, j] (+)= sum_t A(r, t) * B[t, j]: a tile of 4 rows x 2 vectors of C lives in registers,
//    each step broadcasts A and FMAs it with one B load per vector (XNNPACK's "broadcast" GEMM).
//  - Dot form        C(r, s) (+)= sum_j A[r, j] * B[s, j]: 4 rows of A against one row of B, reduced at the end.
// Column tails use an overlapping last vector where the result is overwritten (recomputing a few columns gives
// the same values), a lane mask in the dot form, and scalar code only below one vector.
using System;
using System.Globalization;

namespace CnnGen.Generator.Emit
{
    /// <summary>The broadcast form. <see cref="A"/> maps (row, t) expressions to an element expression.</summary>
    internal sealed class BroadcastGemm
    {
        public string Rows = "";
        public int? RowsConst;
        public int N;
        public string T = "";
        public Func<string, string, string> A = (r, t) => "";
        public string B = "";
        public int LdB;
        public string C = "";
        public int LdC;
        /// <summary>Overwrite mode: the initial value of row r (bias), or null for zero.</summary>
        public Func<string, string>? Init;
        /// <summary>Accumulate mode: C += product.</summary>
        public bool Accumulate;
    }

    /// <summary>The dot form: rows of A and B are contiguous and <see cref="L"/> long.</summary>
    internal sealed class DotGemm
    {
        public string Rows = "";
        public int? RowsConst;
        public string Cols = "";
        public int L;
        public string A = "";
        public int LdA;
        public string B = "";
        public int LdB;
        /// <summary>Element expression of C(r, s).</summary>
        public Func<string, string, string> C = (r, s) => "";
        /// <summary>Overwrite mode: initial value for column s (bias), or null for zero.</summary>
        public Func<string, string>? Init;
        public bool Accumulate;
    }

    internal static class GemmEmitter
    {
        private const int RowBlock = 4;

        private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

        public static void Emit(CodeWriter w, BroadcastGemm g, IsaTarget isa)
        {
            // Column panels outside, rows inside: one panel of B (T x 2 vectors) stays in L1/L2 while every row block
            // of A streams past it, instead of the whole of B coming from L3 once per row block.
            int W = isa.Width;
            int done = 0;
            if (g.N >= 2 * W)
            {
                w.Open($"for (int j = 0; j + {2 * W} <= {g.N}; j += {2 * W})");
                EmitRows(w, g, isa, 2, "j");
                w.Close();
                done = g.N / (2 * W) * (2 * W);
            }
            int rest = g.N - done;
            if (rest >= W)
            {
                w.Open("");
                EmitRows(w, g, isa, 1, I(done));
                w.Close();
                done += W;
                rest -= W;
            }
            if (rest == 0) return;
            w.Open("");
            if (!g.Accumulate && g.N >= W)
            {
                w.Line($"// last {rest} columns: an overlapping vector (recomputed columns get the same values)");
                EmitRows(w, g, isa, 1, I(g.N - W));
            }
            else
            {
                EmitRows(w, g, isa, 0, I(done));
            }
            w.Close();
        }

        /// <summary>All rows for one column position: blocks of 4 rows, then single rows. <paramref name="vecs"/> = 0
        /// means the scalar tail from column <paramref name="j"/> to the end.</summary>
        private static void EmitRows(CodeWriter w, BroadcastGemm g, IsaTarget isa, int vecs, string j)
        {
            bool blocks = g.RowsConst is null || g.RowsConst >= RowBlock;
            bool singles = g.RowsConst is null || g.RowsConst % RowBlock != 0;
            w.Line("int r = 0;");
            if (blocks)
            {
                w.Open($"for (; r + {RowBlock} <= {g.Rows}; r += {RowBlock})");
                if (vecs == 0) ScalarTail(w, g, RowBlock, int.Parse(j, CultureInfo.InvariantCulture)); else Tile(w, g, isa, RowBlock, vecs, j);
                w.Close();
            }
            if (singles)
            {
                w.Open($"for (; r < {g.Rows}; r++)");
                if (vecs == 0) ScalarTail(w, g, 1, int.Parse(j, CultureInfo.InvariantCulture)); else Tile(w, g, isa, 1, vecs, j);
                w.Close();
            }
        }

        private static string Row(int rr) => rr == 0 ? "r" : $"r + {rr}";

        private static void Tile(CodeWriter w, BroadcastGemm g, IsaTarget isa, int rows, int vecs, string j)
        {
            string V = isa.Vec;
            w.Open("");
            for (int rr = 0; rr < rows; rr++)
                for (int q = 0; q < vecs; q++)
                {
                    string init = g.Init is not null && !g.Accumulate ? $"{V}.Create({g.Init(Row(rr))})" : $"{isa.V}.Zero";
                    w.Line($"{isa.V} c{rr}{q} = {init};");
                }
            w.Open($"for (int t = 0; t < {g.T}; t++)");
            w.Line($"ref float bt = ref Unsafe.Add(ref {g.B}, t * {g.LdB} + {j});");
            for (int q = 0; q < vecs; q++)
                w.Line($"{isa.V} b{q} = {V}.LoadUnsafe(ref bt{(q == 0 ? "" : $", {q * isa.Width}")});");
            for (int rr = 0; rr < rows; rr++)
            {
                w.Line($"{isa.V} a{rr} = {V}.Create({g.A(Row(rr), "t")});");
                for (int q = 0; q < vecs; q++)
                    w.Line($"c{rr}{q} = {V}.MultiplyAddEstimate(a{rr}, b{q}, c{rr}{q});");
            }
            w.Close();
            for (int rr = 0; rr < rows; rr++)
            {
                w.Line($"ref float out{rr} = ref Unsafe.Add(ref {g.C}, ({Row(rr)}) * {g.LdC} + {j});");
                for (int q = 0; q < vecs; q++)
                {
                    string off = q == 0 ? "" : $", {q * isa.Width}";
                    if (g.Accumulate) w.Line($"({V}.LoadUnsafe(ref out{rr}{off}) + c{rr}{q}).StoreUnsafe(ref out{rr}{off});");
                    else w.Line($"c{rr}{q}.StoreUnsafe(ref out{rr}{off});");
                }
            }
            w.Close();
        }

        private static void ScalarTail(CodeWriter w, BroadcastGemm g, int rows, int from)
        {
            w.Open($"for (int jj = {from}; jj < {g.N}; jj++)");
            for (int rr = 0; rr < rows; rr++)
                w.Line($"float s{rr} = {(g.Init is not null && !g.Accumulate ? g.Init(Row(rr)) : "0f")};");
            w.Open($"for (int t = 0; t < {g.T}; t++)");
            w.Line($"float bv = Unsafe.Add(ref {g.B}, t * {g.LdB} + jj);");
            for (int rr = 0; rr < rows; rr++) w.Line($"s{rr} += {g.A(Row(rr), "t")} * bv;");
            w.Close();
            for (int rr = 0; rr < rows; rr++)
                w.Line($"Unsafe.Add(ref {g.C}, ({Row(rr)}) * {g.LdC} + jj) {(g.Accumulate ? "+=" : "=")} s{rr};");
            w.Close();
        }

        public static void Emit(CodeWriter w, DotGemm g, IsaTarget isa)
        {
            bool blocks = g.RowsConst is null || g.RowsConst >= RowBlock;
            bool singles = g.RowsConst is null || g.RowsConst % RowBlock != 0;
            int rem = g.L % isa.Width;
            if (rem != 0 && g.L >= isa.Width)
                w.Line($"{isa.V} tailMask = {isa.Vec}.GreaterThanOrEqual({isa.Vec}<int>.Indices, {isa.Vec}.Create({isa.Width - rem})).AsSingle(); // lanes not yet summed");
            w.Line("int r = 0;");
            if (blocks)
            {
                w.Open($"for (; r + {RowBlock} <= {g.Rows}; r += {RowBlock})");
                DotRows(w, g, isa, RowBlock);
                w.Close();
            }
            if (singles)
            {
                w.Open($"for (; r < {g.Rows}; r++)");
                DotRows(w, g, isa, 1);
                w.Close();
            }
        }

        private static void DotRows(CodeWriter w, DotGemm g, IsaTarget isa, int rows)
        {
            string V = isa.Vec;
            int W = isa.Width;
            for (int rr = 0; rr < rows; rr++)
                w.Line($"ref float a{rr} = ref Unsafe.Add(ref {g.A}, ({Row(rr)}) * {g.LdA});");
            w.Open($"for (int s = 0; s < {g.Cols}; s++)");
            w.Line($"ref float bs = ref Unsafe.Add(ref {g.B}, s * {g.LdB});");
            for (int rr = 0; rr < rows; rr++) w.Line($"{isa.V} c{rr} = {isa.V}.Zero;");
            int full = g.L / W * W;
            if (full > 0)
            {
                w.Open($"for (int j = 0; j < {full}; j += {W})");
                w.Line($"{isa.V} bv = {V}.LoadUnsafe(ref bs, (nuint)j);");
                for (int rr = 0; rr < rows; rr++)
                    w.Line($"c{rr} = {V}.MultiplyAddEstimate({V}.LoadUnsafe(ref a{rr}, (nuint)j), bv, c{rr});");
                w.Close();
            }
            int rem = g.L - full;
            bool scalarTail = rem != 0 && g.L < W;
            if (rem != 0 && !scalarTail)
            {
                w.Line($"{isa.V} bt = {V}.LoadUnsafe(ref bs, {g.L - W}) & tailMask;");
                for (int rr = 0; rr < rows; rr++)
                    w.Line($"c{rr} = {V}.MultiplyAddEstimate({V}.LoadUnsafe(ref a{rr}, {g.L - W}), bt, c{rr});");
            }
            for (int rr = 0; rr < rows; rr++) w.Line($"float s{rr} = {V}.Sum(c{rr});");
            if (scalarTail)
            {
                w.Open($"for (int j = {full}; j < {g.L}; j++)");
                w.Line("float bj = Unsafe.Add(ref bs, j);");
                for (int rr = 0; rr < rows; rr++) w.Line($"s{rr} += Unsafe.Add(ref a{rr}, j) * bj;");
                w.Close();
            }
            for (int rr = 0; rr < rows; rr++)
            {
                if (g.Accumulate) w.Line($"{g.C(Row(rr), "s")} += s{rr};");
                else w.Line($"{g.C(Row(rr), "s")} = {(g.Init is null ? "" : g.Init("s") + " + ")}s{rr};");
            }
            w.Close();
        }
    }
}
