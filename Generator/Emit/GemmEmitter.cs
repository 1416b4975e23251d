// Register-blocked matrix kernels with every size a literal. Two forms cover all conv and dense passes:
//  - Broadcast form  C[r, j] (+)= sum_t A(r, t) * B[t, j] (every conv pass, the dense backward), BLIS-style: B is
//    packed per depth block into contiguous KC x 2-vector panels, and a micro-kernel keeps an MR x 2-vector tile of C
//    in registers (6 x 16 on AVX2: 12 accumulators), broadcasting A with pointer increments and literal row offsets.
//  - Dot form        C(r, s) (+)= sum_j A[r, j] * B[s, j]: 4 rows of A against one row of B, reduced at the end.
// Column tails: a last strip of one vector or half of one gets tiles of that width, a zero-padded panel whose tile goes
// through a small edge buffer otherwise (broadcast form), and the last few columns (a quarter vector) run as dot products
// along A's depth; a lane mask in the dot form, and scalar code only below one vector.
using System;
using System.Globalization;
using System.Linq;

namespace CnnGen.Generator.Emit
{
    /// <summary>The broadcast form: C[r, j] (+)= sum_t A(r, t) * B[t, j] with A(r, t) = A[r * LdAr + t * LdAt] (so the
    /// transposed weights of backward-data need no copy), B row-major with row stride LdB, C with row stride LdC.</summary>
    internal sealed class BroadcastGemm
    {
        /// <summary>Prefix of the emitted micro-kernel local functions; unique within one kernel method.</summary>
        public string Name = "Gemm";
        public string Rows = "";
        public int? RowsConst;
        public int N;
        public string T = "";
        public int? TConst;
        public string A = "";
        public int LdAr;
        public int LdAt;
        public string B = "";
        public int LdB;
        /// <summary>B(t, j) = B[j * LdB + t] (packing transposes it; the weight gradient reads the row-major im2col).</summary>
        public bool BTransposed;
        /// <summary>With <see cref="BTransposed"/>: the float offset of B's row k (an expression of the row expression), instead
        /// of k * LdB. An implicit im2col's rows are the input's shifted planes (KernelEmitter.ConvShiftedPlanes).</summary>
        public Func<string, string>? BRowStart;
        /// <summary>With <see cref="BTransposed"/>: a statement run before B's rows [first, first + count) are first read (the
        /// arguments are expressions), which may write them: the shifted planes are built for each strip's input channels
        /// just before its packing, so that the packing reads them from L1.</summary>
        public Func<string, string, string>? BPrepare;
        /// <summary>B is packed already (WeightPacking.PackStrips with the panel width): column strip j..j+NR is a contiguous
        /// [T x NR] block at B + j * T, which the tiles read in place (no per-call packing). N is a whole number of strips.</summary>
        public bool BPrepacked;
        /// <summary>A shorter longest depth block than <see cref="GemmEmitter.MaxDepth"/>, or 0: when A's block is read by every
        /// strip, as a prepacked B's GEMM does with its columns, A's and B's blocks must fit in L1 together.</summary>
        public int DepthLimit;
        /// <summary>Take the tile height (at most <see cref="GemmEmitter.TileRows"/>, at least 5) that divides a constant row count, if
        /// one does: a last tile of one or two rows has too few independent accumulators to hide the FMA latency (49 pixel
        /// rows on AVX-512: 7 tiles of 7 instead of 6 of 8 and one of 1).</summary>
        public bool FitRows;
        public string C = "";
        public int LdC;
        /// <summary>Overwrite mode: row r starts at Init[r] (the bias), or null for zero.</summary>
        public string? Init;
        /// <summary>Accumulate mode: C += product.</summary>
        public bool Accumulate;
        /// <summary>Without <see cref="Accumulate"/>: a runtime condition under which C += product, else C = product (a sum
        /// over calls whose first call stores instead of adding to a cleared C). The tiles' load flag carries it.</summary>
        public string? AccumulateIf;
        /// <summary>Only columns [jBegin, jEnd) (locals the caller declares; multiples of the panel width, jEnd at most N
        /// rounded up to one): the share of one worker when a team splits a GEMM by columns. Not with BTransposed.</summary>
        public bool ColumnRange;
        /// <summary>Only rows [rBegin, rEnd) (locals the caller declares): rBegin a multiple of the tile height, rEnd too or
        /// the last row, so only the last worker's share has the short tile. The other way a team splits a GEMM.</summary>
        public bool RowRange;
        /// <summary>The micro-kernels ask for the next tile's rows of A in L2 (CacheHints.PrefetchL2): for weights too large
        /// for L2 that every call streams from memory. Winograd's products use it (ResNet-18's 36 x 256 x 256 transformed
        /// weights: batch 1 measured 0.3-0.5 ms faster); the 512 x 7 x 7 im2col convs measured no gain and do not.</summary>
        public bool PrefetchA;
        /// <summary>Each full row tile asks for the next tile's rows of C in L2 before it starts (CacheHints.PrefetchL2, a
        /// line per 16 floats of each row): for a C too large for L2 whose tiles lie a whole row apart, too far for the
        /// hardware prefetcher to follow. An accumulated weight gradient dW (transposed B), and a 1x1 conv's input
        /// gradient on AVX2 (written, not read: the prefetch takes the read for ownership off the stores' path).</summary>
        public bool PrefetchC;
        /// <summary>B streams from memory and is packed here (not transposed, not prepacked): each full row tile asks for its
        /// share of the rows of B's next column block (or the next depth block's first) in L2 (CacheHints.PrefetchL2, a line
        /// per 16 floats). A 1x1 conv reads its input as B: rows of a few lines each, a whole plane apart, more of them at
        /// once than the hardware prefetcher follows.</summary>
        public bool PrefetchB;
        /// <summary>The full strips' tiles read B in place (row stride LdB) instead of a packed panel: B's rows are contiguous
        /// runs of the strip's columns already (the conv forward's im2col columns, a 1x1 conv's input that outgrows L2,
        /// Winograd's V), so packing would only copy them.</summary>
        public bool BInPlace;
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

        // ------------------------------------------------------------------ broadcast form (BLIS-style)
        // Loop nest: [row blocks of MC] > [depth blocks of KC] > column strips of NR = 2 vectors > row tiles of MR.
        // Each (depth block, strip) of B is copied once into a contiguous KC x NR panel (on the stack, so it stays in
        // L1 and every step reads the next 64 bytes), then every MR-row tile of A's MC x KC block (L2) runs over it
        // in a micro-kernel of its own: MR x 2 accumulators in registers, one broadcast of A per row and step.

        /// <summary>Rows per register tile: 6 x 2 vectors = 12 accumulators + 2 B vectors + 1 broadcast fit the 16
        /// registers of AVX2 (and SSE); AVX-512 has 32, 8 x 2 = 16 accumulators.</summary>
        public static int TileRows(IsaTarget isa) => isa.Width == 16 ? 8 : 6;
        /// <summary>Panel width in floats: two vectors.</summary>
        public static int PanelWidth(IsaTarget isa) => 2 * isa.Width;
        /// <summary>The statement declaring rBegin and rEnd for <see cref="BroadcastGemm.RowRange"/>: worker part's share of
        /// <paramref name="rows"/> rows in whole register tiles of <paramref name="tileRows"/> (the last worker also takes the
        /// short last tile).</summary>
        public static string RowShare(int rows, int tileRows)
        {
            int tiles = (rows + tileRows - 1) / tileRows;
            string begin = $"part * {tiles} / parts * {tileRows}", end = $"Math.Min((part + 1) * {tiles} / parts * {tileRows}, {rows})";
            return PairRows(rows, tileRows) is int half
                ? $"int rBegin = parts == 2 ? part * {half} : {begin}, rEnd = parts == 2 ? rBegin + {half} : {end}; // a pair: half the rows each (GemmEmitter.PairRows)"
                : $"int rBegin = {begin}, rEnd = {end};";
        }
        /// <summary>Each worker's rows when a pair of workers (the usual team: two cores) shares a GEMM of <paramref name="rows"/>
        /// rows, or null when whole tiles already split them evenly. Whole tiles of <paramref name="tileRows"/> give one worker a
        /// tile more, or the short last tile: 64 rows in tiles of 6 are 30 and 34. Half the rows each, tiled from its own first
        /// row (<see cref="EvenHeights"/>: 32 = 2 x 6 + 4 x 5): the 1x64x56x56 Winograd forward on 2 threads, whose products
        /// take 70% of the time, measured bests 0.576-0.582 -> 0.557-0.564 ms (AVX2 Zen 3, each worker transforming the whole
        /// input; with the input split by channels it had measured 0.563 -> 0.575, for no reason found).</summary>
        internal static int? PairRows(int rows, int tileRows)
        {
            int tiles = (rows + tileRows - 1) / tileRows;
            if (rows % 2 != 0 || rows / 2 < 4 || tiles / 2 * tileRows == rows / 2) return null;
            return rows / 2;
        }
        /// <summary>Longest depth block: the packed panel (KC x NR floats, 24-25 KiB on both sets) and a tile's rows of A stay
        /// inside L1 (48 KiB on Zen 5 and recent Intel cores). AVX-512 takes 196, not 192: a 14 x 14 map's pixels (the seed
        /// net's weight gradient, and 4 images of 7 x 7) are then one block instead of two of 98, which halves the loads and
        /// stores of dW and the dot columns' sums (seed layer, 64 images: 2.80 -> 2.55 ms).</summary>
        public static int MaxDepth(IsaTarget isa) => isa.Width == 16 ? 196 : 384;
        /// <summary>A core's L2 (1 MiB on the Zen 5 and 2 MiB on recent Intel machines this targets, so the smaller): weights larger
        /// than this stream from L3 or memory on every call.</summary>
        public const long L2Bytes = 1L << 20;
        /// <summary>Strips packed at once (the stack panel holds this many KC x NR panels).</summary>
        private const int Strips = 4;
        /// <summary>A's MC x KC block stays in L2 (about 256 KiB of it).</summary>
        private const int ABlockFloats = 65536;

        /// <summary>The stack scratch every broadcast GEMM in a kernel method uses; emit once at the method's top.</summary>
        public static void DeclareScratch(CodeWriter w, IsaTarget isa)
        {
            int nr = PanelWidth(isa);
            w.Line($"Span<float> panelSpan = stackalloc float[{I(Strips * MaxDepth(isa) * nr)}]; // {Strips} packed {MaxDepth(isa)} x {nr} panels of B");
            w.Line("ref float panel = ref MemoryMarshal.GetReference(panelSpan);");
            w.Line($"Span<float> edgeSpan = stackalloc float[{I(TileRows(isa) * nr)}]; // C tile of the ragged last strip");
            w.Line("ref float edge = ref MemoryMarshal.GetReference(edgeSpan);");
        }

        public static void Emit(CodeWriter w, BroadcastGemm g, IsaTarget isa)
        {
            int W = isa.Width, NR = PanelWidth(isa), MR = TileRows(isa);
            if (g.FitRows && g.RowsConst is int fit && fit % MR != 0)
                for (int h = MR - 1; h >= 5; h--) if (fit % h == 0) { MR = h; break; }
            int kcMax = g.DepthLimit > 0 ? Math.Min(g.DepthLimit, MaxDepth(isa)) : MaxDepth(isa);
            int? tConst = g.TConst;
            int depthBlocks = tConst is int tc ? Math.Max(1, (tc + kcMax - 1) / kcMax) : 0;
            int KC = tConst is int t1 ? (t1 + depthBlocks - 1) / depthBlocks : kcMax;
            bool depthLoop = tConst is null || depthBlocks > 1;
            int MC = Math.Max(MR, ABlockFloats / Math.Max(1, KC) / MR * MR);
            bool rowLoop = g.RowsConst is int mc && mc > MC;
            int full = g.N / NR * NR, rest = g.N - full;
            (int Tall, int TallTiles, int Short)? even = g.RowRange || rowLoop ? null : EvenHeights(g.RowsConst, MR);
            // a pair of workers takes half the rows each (RowShare): a constant count, tiled evenly unless row blocks cut it
            if (g.RowRange && g.FitRows) throw new InvalidOperationException($"{g.Name}: a row range is shared in tiles of the set's full height, which FitRows would change");
            Tiling? pair = g.RowRange && g.RowsConst is int rowsAll && PairRows(rowsAll, MR) is int half
                ? new Tiling(half, rowLoop && half > MC ? null : EvenHeights(half, MR)) : null;
            string load = g.Accumulate ? "true" : depthLoop ? "load" : g.AccumulateIf is string when ? $"({when})" : "false";

            w.Open("");
            w.Line($"// C[{g.Rows} x {g.N}] {(g.Accumulate ? "+=" : g.AccumulateIf is string cond ? $"= (+= when {cond})" : "=")} A[{g.Rows} x {g.T}] * B[{g.T} x {g.N}]: {NR}-column strips of B packed in depth blocks of {KC}, {MR} x {NR} register tiles");
            string rowEnd = g.RowRange ? "rEnd" : g.Rows;
            if (rowLoop)
            {
                w.Open($"for (int ic = {(g.RowRange ? "rBegin" : "0")}; ic < {rowEnd}; ic += {MC})");
                w.Line($"int rowEnd = Math.Min(ic + {MC}, {rowEnd});");
                rowEnd = "rowEnd";
            }
            if (depthLoop)
            {
                w.Open($"for (int pc = 0; pc < {g.T}; pc += {KC})");
                w.Line(tConst is int t2 && t2 % KC == 0 ? $"const int kc = {KC};" : $"int kc = Math.Min({KC}, {g.T} - pc);");
                if (!g.Accumulate) w.Line(g.AccumulateIf is string also ? $"bool load = pc > 0 || ({also});" : "bool load = pc > 0;");
            }
            else
            {
                w.Line("const int pc = 0;");
                w.Line($"const int kc = {g.T};");
            }
            string r0 = rowLoop ? "ic" : g.RowRange ? "rBegin" : "0";
            if (g.BPrepacked)
            {
                if (rest != 0 || tConst is null) throw new InvalidOperationException($"{g.Name}: a prepacked B needs whole {NR}-column strips and a constant depth");
                if (rowLoop) throw new InvalidOperationException($"{g.Name}: a prepacked B's rows share its prefetches from their first row, so they take no row blocks");
                w.Line($"// B's strips are packed already: columns [j, j + {NR}) are [{g.T} x {NR}] at B + j * {g.T}");
                w.Open($"for (int j = {(g.ColumnRange ? "jBegin" : "0")}; j < {(g.ColumnRange ? "jEnd" : I(full))}; j += {NR})");
                w.Line($"ref float strip = ref Unsafe.Add(ref {g.B}, j * {g.T} + pc * {NR});");
                string first = g.ColumnRange ? "jBegin" : "0", last = g.ColumnRange ? "jEnd" : I(full);
                // B (the weights) streams from memory in blocks too short for the hardware prefetcher to run ahead of: each row
                // tile asks for its rows' share of the next block's lines in L2, spread over its depth steps (a few lines every 16
                // steps: a tile's whole share at once overflowed the miss queue, and the loads waited on memory)
                string rowCount = g.RowsConst is int rc ? I(rc) : $"({rowEnd} - {r0})";
                w.Line($"int nextAt = j + {NR} < {last} ? (j + {NR}) * {g.T} + pc * {NR} : pc + kc < {g.T} ? {first} * {g.T} + (pc + kc) * {NR} : -1; // the next block of B");
                w.Line($"int lines = nextAt >= 0 ? (kc * {NR} + 15) / 16 : 0, perRow = (lines + {rowCount} - 1) / {rowCount}; // its cache lines, and each row's share");
                EmitRowTiles(w, g, NR, MR, even, pair, r0, rowEnd, load, edgeCols: 0, j: "j", b: "strip");
                w.Close();
            }
            else if (full > 0 && g.BTransposed)
            {
                w.Open($"for (int j = 0; j < {full}; j += {NR})");
                EmitPrepare(w, g, "j", NR);
                PackTransposed(w, g, isa, NR, "j", NR);
                string? prefetchC = g.PrefetchC ? PrefetchNextC(g, NR, MR, r0, rowEnd, I(full)) : null;
                EmitRowTiles(w, g, NR, MR, even, pair, r0, rowEnd, load, edgeCols: 0, j: "j", b: "panel", beforeTile: prefetchC);
                w.Close();
            }
            else if (full > 0)
            {
                // Up to Strips strips are packed together, so each row of B is read as one run of NC floats.
                int NC = Strips * NR;
                bool constStrips = full % NC == 0 && !g.ColumnRange;
                string end = g.ColumnRange ? "jFull" : I(full);
                if (g.ColumnRange) w.Line($"int jFull = Math.Min(jEnd, {full});");
                w.Open($"for (int jc = {(g.ColumnRange ? "jBegin" : "0")}; jc < {end}; jc += {NC})");
                w.Line(constStrips ? $"const int strips = {Strips};" : $"int strips = Math.Min({Strips}, ({end} - jc) / {NR});");
                if (!g.BInPlace) PackStrips(w, g, isa, NC, KC, constStrips);
                string? prefetchB = null;
                if (g.PrefetchB)
                {
                    int tiles = g.RowsConst is int rc ? Math.Max(1, rc / MR) : 1;
                    string first = g.ColumnRange ? "jBegin" : "0";
                    w.Line($"int nextAt = jc + {NC} < {end} ? pc * {g.LdB} + jc + {NC} : pc + kc < {g.T} ? (pc + kc) * {g.LdB} + {first} : -1; // B's next block");
                    w.Line($"int share = (kc + strips * {tiles} - 1) / (strips * {tiles}); // rows of it per row tile");
                    string lines = string.Join(" ", Enumerable(NC / 16).Select(q => $"CacheHints.PrefetchL2(ref Unsafe.Add(ref {g.B}, at{(q == 0 ? "" : $" + {q * 16}")}));"));
                    prefetchB = $"if (nextAt >= 0) for (int pr = (s * {tiles} + (r - {r0}) / {MR}) * share, prEnd = Math.Min(pr + share, kc); pr < prEnd; pr++) {{ int at = nextAt + pr * {g.LdB}; {lines} }}";
                }
                if (g.PrefetchC) prefetchB = (prefetchB is null ? "" : prefetchB + " ") + PrefetchNextC(g, NR, MR, r0, rowEnd, end);
                w.Open("for (int s = 0; s < strips; s++)");
                w.Line($"int j = jc + s * {NR};");
                w.Line(g.BInPlace ? $"ref float strip = ref Unsafe.Add(ref {g.B}, pc * {g.LdB} + j); // B's rows in place" : $"ref float strip = ref Unsafe.Add(ref panel, s * {KC * NR});");
                EmitRowTiles(w, g, NR, MR, even, pair, r0, rowEnd, load, edgeCols: 0, j: "j", b: "strip", kind: g.BInPlace ? "InPlace" : "", beforeTile: prefetchB);
                w.Close();
                w.Close();
            }
            // A rest of at most one vector goes through one-vector-wide tiles (half the FMAs of a two-vector strip), one of at
            // most half a vector through half-vector tiles (AVX-512's last 8 columns as Vector256). The last few columns
            // (up to a quarter vector, after one exact vector strip if the rest is longer than a vector) are cheaper as dot
            // products along A's contiguous depth: a 7 x 7 map's 49 columns are 32 + 16 + 1 on AVX-512, where a 17-column
            // edge strip would spend a whole two-vector strip's FMAs on them.
            var (tileRest, dotCols) = SplitRest(g, isa, rest);
            int restWidth = tileRest > 0 ? RestWidth(isa, tileRest) : NR;
            string restKind = Kind(isa, restWidth);
            if (rest > 0)
            {
                w.Open(g.ColumnRange ? $"if (jEnd > {full})" : "");
                if (tileRest > 0)
                {
                    // exactly one vector of columns (16 on AVX-512: a 14 x 14 map's Winograd tiles): no padding, so the tiles
                    // write C directly, and a B whose rows are one vector long is its own panel
                    bool exact = tileRest == restWidth;
                    bool inPlace = exact && !g.BTransposed && g.LdB == restWidth;
                    if (dotCols > 0) w.Open("");
                    w.Line(exact
                        ? $"// {(dotCols > 0 ? "next" : "last")} {tileRest} columns: one vector, {(inPlace ? "B's rows are the panel" : "a packed panel")}, tiles straight into C"
                        : $"// last {tileRest} columns: a zero-padded {restWidth}-column panel, tiles through the edge buffer");
                    EmitPrepare(w, g, I(full), tileRest);
                    if (g.BTransposed) PackTransposed(w, g, isa, restWidth, I(full), tileRest);
                    else if (inPlace) w.Line($"ref float packed = ref Unsafe.Add(ref {g.B}, pc * {g.LdB} + {full});");
                    else if (exact)
                    {
                        w.Line($"ref float src = ref Unsafe.Add(ref {g.B}, pc * {g.LdB} + {full});");
                        w.Line($"for (int t = 0; t < kc; t++) {VectorOf(isa, restWidth).Vec}.LoadUnsafe(ref src, (nuint)(t * {g.LdB})).StoreUnsafe(ref panel, (nuint)(t * {restWidth}));");
                    }
                    else
                    {
                        w.Line($"ref float src = ref Unsafe.Add(ref {g.B}, pc * {g.LdB} + {full});");
                        w.Line("ref float dst = ref panel;");
                        w.Open("for (int t = 0; t < kc; t++)");
                        w.Line($"for (int q = 0; q < {tileRest}; q++) Unsafe.Add(ref dst, q) = Unsafe.Add(ref src, q);");
                        w.Line($"for (int q = {tileRest}; q < {restWidth}; q++) Unsafe.Add(ref dst, q) = 0f;");
                        w.Line($"src = ref Unsafe.Add(ref src, {g.LdB});");
                        w.Line($"dst = ref Unsafe.Add(ref dst, {restWidth});");
                        w.Close();
                    }
                    EmitRowTiles(w, g, restWidth, MR, even, pair, r0, rowEnd, load, edgeCols: exact ? 0 : tileRest, j: I(full), b: inPlace ? "packed" : "panel", kind: restKind);
                    if (dotCols > 0) w.Close();
                }
                if (dotCols > 0)
                {
                    if (tileRest > 0) w.Open("");
                    EmitPrepare(w, g, I(full + tileRest), dotCols);
                    EmitRowDots(w, g, KC * NR, KC, full + tileRest, dotCols, r0, rowEnd, load, DotHeights(g, rowLoop));
                    if (tileRest > 0) w.Close();
                }
                w.Close();
            }
            if (depthLoop) w.Close();
            if (rowLoop) w.Close();

            // The micro-kernels: one per tile height in use.
            var heights = new System.Collections.Generic.SortedSet<int>(TileHeights(g.RowsConst, even, MR));
            if (pair is Tiling paired) heights.UnionWith(TileHeights(paired.Rows, paired.Even, MR));
            if ((full > 0 && !g.BInPlace) || (tileRest > 0 && restKind == ""))
                foreach (int h in heights) EmitMicroKernel(w, g, isa, h, "");
            if (full > 0 && g.BInPlace)
                foreach (int h in heights) EmitMicroKernel(w, g, isa, h, "InPlace");
            if (tileRest > 0 && restKind != "")
                foreach (int h in heights) EmitMicroKernel(w, g, isa, h, restKind);
            if (dotCols > 0)
                foreach (int h in DotHeights(g, rowLoop)) EmitDotKernel(w, g, isa, h, dotCols, KC);
            w.Close();
        }

        /// <summary>The statement a full row tile at (r, j) runs first for <see cref="BroadcastGemm.PrefetchC"/>: the next tile
        /// of C (the next rows of this strip, or the first rows of the next strip before column <paramref name="end"/>)
        /// toward L2, a line per 16 floats of each of its rows.</summary>
        private static string PrefetchNextC(BroadcastGemm g, int NR, int MR, string r0, string rowEnd, string end)
        {
            string next = $"(r + {MR} < {rowEnd} ? (nint)(r + {MR}) * {g.LdC} + j : j + {NR} < {end} ? (nint){r0} * {g.LdC} + j + {NR} : -1)";
            string lines = string.Join(" ", Enumerable(NR / 16).Select(q => $"CacheHints.PrefetchL2(ref Unsafe.Add(ref {g.C}, nextC + i * {g.LdC}{(q == 0 ? "" : $" + {q * 16}")}));"));
            return $"{{ nint nextC = {next}; if (nextC >= 0) for (int i = 0; i < {MR}; i++) {{ {lines} }} }}";
        }

        /// <summary>Copies up to <see cref="Strips"/> strips of B's depth block into the panel (each row of B read as one run of
        /// <paramref name="NC"/> floats).</summary>
        private static void PackStrips(CodeWriter w, BroadcastGemm g, IsaTarget isa, int NC, int KC, bool constStrips)
        {
            int W = isa.Width, NR = PanelWidth(isa);
            w.Line($"ref float src = ref Unsafe.Add(ref {g.B}, pc * {g.LdB} + jc);");
            w.Line("ref float dst = ref panel;");
            w.Open("for (int t = 0; t < kc; t++)");
            if (g.ColumnRange) w.Open($"if (strips == {Strips})");
            if (constStrips || g.ColumnRange)
            {
                for (int st = 0; st < Strips; st++)
                    for (int q = 0; q < 2; q++)
                    {
                        int so = st * NR + q * W, dO = st * KC * NR + q * W;
                        w.Line($"{isa.Vec}.LoadUnsafe(ref src{(so == 0 ? "" : $", {I(so)}")}).StoreUnsafe(ref dst{(dO == 0 ? "" : $", {I(dO)}")});");
                    }
            }
            if (g.ColumnRange) { w.Close(); w.Open("else"); }
            if (!constStrips)
            {
                w.Open("for (int s = 0; s < strips; s++)");
                w.Line($"{isa.Vec}.LoadUnsafe(ref src, (nuint)(s * {NR})).StoreUnsafe(ref dst, (nuint)(s * {KC * NR}));");
                w.Line($"{isa.Vec}.LoadUnsafe(ref src, (nuint)(s * {NR} + {W})).StoreUnsafe(ref dst, (nuint)(s * {KC * NR} + {W}));");
                w.Close();
            }
            if (g.ColumnRange) w.Close();
            w.Line($"src = ref Unsafe.Add(ref src, {g.LdB});");
            w.Line($"dst = ref Unsafe.Add(ref dst, {NR});");
            w.Close();
        }

        /// <summary>The statement that prepares B's rows [first, first + count) before their first read (BroadcastGemm.BPrepare),
        /// if the GEMM has one.</summary>
        private static void EmitPrepare(CodeWriter w, BroadcastGemm g, string first, int count)
        {
            if (g.BTransposed && g.BPrepare is not null) w.Line(g.BPrepare(first, I(count)));
        }

        /// <summary>Splits a rest of columns into the part register tiles take (starting at the first rest column) and a
        /// last part of <c>dotCols</c> columns done as dot products. The dot form needs A contiguous in depth (LdAt 1) and
        /// pays a horizontal sum per row and depth block, so it takes at most a quarter vector of columns, and only on the
        /// AVX2 and AVX-512 kernel sets.</summary>
        private static (int TileRest, int DotCols) SplitRest(BroadcastGemm g, IsaTarget isa, int rest)
        {
            int dotMax = isa.Width / 4;
            if (rest == 0 || isa.Width < 8 || g.LdAt != 1) return (rest, 0);
            if (rest <= dotMax) return (0, rest);
            if (rest > isa.Width && rest - isa.Width <= dotMax) return (isa.Width, rest - isa.Width);
            return (rest, 0);
        }

        /// <summary>The dot kernels' row counts: blocks of four share each load of B's columns, single rows take the rest. Only
        /// a whole constant row count can leave one out: a worker's row range or a row block need not be a multiple of four.</summary>
        private static int[] DotHeights(BroadcastGemm g, bool rowLoop) =>
            g.RowsConst is int m && !g.RowRange && !rowLoop
                ? (m < RowBlock ? new[] { 1 } : m % RowBlock == 0 ? new[] { RowBlock } : new[] { 1, RowBlock })
                : new[] { 1, RowBlock };

        private static string DotName(BroadcastGemm g, int rows, int cols) => $"{g.Name}Dot{rows}x{cols}";

        /// <summary>Columns [j, j + cols) of C as dot products of A's rows with B's columns over the depth block. A transposed
        /// B's columns are contiguous already; a row-major B's are gathered into the panel scratch at <paramref name="at"/>
        /// (after the one-vector panel the tiles before may have used), <paramref name="kcMax"/> floats apart.</summary>
        private static void EmitRowDots(CodeWriter w, BroadcastGemm g, int at, int kcMax, int j, int cols, string r0, string rowEnd, string load, int[] heights)
        {
            w.Line($"// last {cols} column{(cols == 1 ? "" : "s")}: dot products of A's rows with B's {(g.BTransposed ? g.BRowStart is null ? "columns (contiguous rows of the source)" : "columns (rows of the source, copied side by side)" : "columns, gathered contiguous")}");
            string b;
            if (g.BTransposed && g.BRowStart is null) b = $"ref Unsafe.Add(ref {g.B}, {j} * {g.LdB} + pc)";
            else if (g.BTransposed && g.BRowStart is { } rowStart)
            {
                w.Line($"ref float dots = ref Unsafe.Add(ref panel, {at});");
                w.Line($"for (int q = 0; q < {cols}; q++) MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref {g.B}, {rowStart($"{j} + q")} + pc), kc).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref dots, q * {kcMax}), kc));");
                b = "ref dots";
            }
            else
            {
                w.Line($"ref float dots = ref Unsafe.Add(ref panel, {at});");
                w.Line($"ref float src = ref Unsafe.Add(ref {g.B}, pc * {g.LdB} + {j});");
                w.Line($"for (int q = 0; q < {cols}; q++) for (int t = 0; t < kc; t++) Unsafe.Add(ref dots, q * {kcMax} + t) = Unsafe.Add(ref src, t * {g.LdB} + q);");
                b = "ref dots";
            }
            string init = g.Init is not null && !g.Accumulate ? $", ref Unsafe.Add(ref {g.Init}, r)" : "";
            string Call(int rows) => $"{DotName(g, rows, cols)}(ref Unsafe.Add(ref {g.A}, r * {g.LdAr} + pc), {b}, ref Unsafe.Add(ref {g.C}, r * {g.LdC} + {j}), kc, {load}{init});";
            w.Line($"int r = {r0};");
            if (heights.Contains(RowBlock))
            {
                w.Open($"for (; r + {RowBlock} <= {rowEnd}; r += {RowBlock})");
                w.Line(Call(RowBlock));
                w.Close();
            }
            if (heights.Contains(1)) w.Line($"for (; r < {rowEnd}; r++) {Call(1)}");
        }

        /// <summary>A dot-product kernel: <paramref name="rows"/> rows x <paramref name="cols"/> columns of C, one vector
        /// accumulator each, summed across lanes at the end of the depth block; a depth that is not a whole number of vectors
        /// ends in scalar steps.</summary>
        private static void EmitDotKernel(CodeWriter w, BroadcastGemm g, IsaTarget isa, int rows, int cols, int kcMax)
        {
            string V = isa.Vec, VT = isa.V;
            int ldb = g.BTransposed && g.BRowStart is null ? g.LdB : kcMax;
            bool init = g.Init is not null && !g.Accumulate;
            string A(int i, string t) => i == 0 ? $"ref a, {t}" : $"ref a, {I(i * g.LdAr)} + {t}";
            string B(int q, string t) => q == 0 ? $"ref b, {t}" : $"ref b, {I(q * ldb)} + {t}";
            w.Line($"// {rows} row{(rows == 1 ? "" : "s")} x {cols} column{(cols == 1 ? "" : "s")} of C as dot products over the depth block; a: A(r, pc) (rows {g.LdAr} apart), b: B(pc, j) (columns {ldb} apart), c: C(r, j)");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
            w.Open($"static void {DotName(g, rows, cols)}(ref float a, ref float b, ref float c, int kc, bool load{(init ? ", ref float init" : "")})");
            w.Line($"{VT} {string.Join(", ", Enumerable(rows).SelectMany(i => Enumerable(cols).Select(q => $"d{i}{q} = {VT}.Zero")))};");
            w.Line("nuint t = 0;");
            w.Open($"for (; t + {isa.Width} <= (nuint)kc; t += {isa.Width})");
            for (int q = 0; q < cols; q++) w.Line($"{VT} b{q} = {V}.LoadUnsafe({B(q, "t")});");
            for (int i = 0; i < rows; i++)
            {
                w.Line($"{(i == 0 ? VT + " " : "")}ai = {V}.LoadUnsafe({A(i, "t")});");
                for (int q = 0; q < cols; q++) w.Line($"d{i}{q} = {V}.MultiplyAddEstimate(ai, b{q}, d{i}{q});");
            }
            w.Close();
            w.Line($"float {string.Join(", ", Enumerable(rows).SelectMany(i => Enumerable(cols).Select(q => $"s{i}{q} = {V}.Sum(d{i}{q})")))};");
            w.Open("for (; t < (nuint)kc; t++)");
            for (int q = 0; q < cols; q++) w.Line($"float b{q} = Unsafe.Add({B(q, "t")});");
            for (int i = 0; i < rows; i++)
            {
                w.Line($"{(i == 0 ? "float " : "")}ai = Unsafe.Add({A(i, "t")});");
                for (int q = 0; q < cols; q++) w.Line($"s{i}{q} += ai * b{q};");
            }
            w.Close();
            for (int i = 0; i < rows; i++)
                for (int q = 0; q < cols; q++)
                {
                    string ci = $"Unsafe.Add(ref c, {I(i * g.LdC + q)})";
                    w.Line($"{ci} = (load ? {ci} : {(init ? $"Unsafe.Add(ref init, {I(i)})" : "0f")}) + s{i}{q};");
                }
            w.Close();
        }

        /// <summary>The width of the tiles of a last strip of <paramref name="rest"/> columns: half a vector when it fits in one
        /// (AVX-512: Vector256, AVX2: Vector128), one vector when it fits in one, else the two-vector panel width (the SSE
        /// set keeps two-vector tiles, whose 4-wide vectors make the difference small).</summary>
        private static int RestWidth(IsaTarget isa, int rest) =>
            isa.Width < 8 ? PanelWidth(isa) : rest <= isa.Width / 2 ? isa.Width / 2 : rest <= isa.Width ? isa.Width : PanelWidth(isa);

        /// <summary>The tile name suffix of a strip width: "" (two vectors), "Narrow" (one), "Half" (half a vector).</summary>
        private static string Kind(IsaTarget isa, int width) => width == PanelWidth(isa) ? "" : width == isa.Width ? "Narrow" : "Half";

        /// <summary>The vector type of a tile width: the kernel set's vector, or the one of half its width.</summary>
        private static (string Vec, string V) VectorOf(IsaTarget isa, int width) =>
            width >= isa.Width ? (isa.Vec, isa.V) : width == 8 ? ("Vector256", "Vector256<float>") : ("Vector128", "Vector128<float>");

        /// <summary>Packs columns [j, j + cols) of a transposed B (each a contiguous row of the source). On x86 with AVX
        /// (the AVX2 and AVX-512 kernel sets), 8 rows at a time go through an 8 x 8 register transpose.</summary>
        private static void PackTransposed(CodeWriter w, BroadcastGemm g, IsaTarget isa, int NR, string j, int cols)
        {
            int eights = isa.Width >= 8 ? cols / 8 * 8 : 0;
            if (eights > 0)
            {
                const string X86 = "System.Runtime.Intrinsics.X86.Avx";
                w.Open($"for (int q = 0; q < {eights}; q += 8)");
                if (g.BRowStart is null) w.Line($"ref float src = ref Unsafe.Add(ref {g.B}, ({j} + q) * {g.LdB} + pc);");
                else w.Line($"int {string.Join(", ", Enumerable(8).Select(i => $"o{i} = {g.BRowStart(i == 0 ? $"{j} + q" : $"{j} + q + {i}")} + pc"))}; // where rows q..q+7 start");
                w.Line("ref float dst = ref Unsafe.Add(ref panel, q);");
                w.Line("int t = 0;");
                w.Open($"if ({X86}.IsSupported)");
                w.Open("for (; t + 8 <= kc; t += 8)");
                w.Line("// rows q..q+7, columns t..t+7 of the source -> panel rows t..t+7, lanes q..q+7");
                EmitTranspose8x8(w,
                    i => g.BRowStart is null ? $"Vector256.LoadUnsafe(ref src, (nuint)({(i == 0 ? "" : $"{I(i * g.LdB)} + ")}t))" : $"Vector256.LoadUnsafe(ref {g.B}, (nuint)(o{i} + t))",
                    $"ref float d = ref Unsafe.Add(ref dst, t * {NR});",
                    (l, column) => $"{column}.StoreUnsafe(ref d{(l == 0 ? "" : $", {I(l * NR)}")});");
                w.Close();
                w.Close();
                if (g.BRowStart is null) w.Line($"for (; t < kc; t++) for (int i = 0; i < 8; i++) Unsafe.Add(ref dst, t * {NR} + i) = Unsafe.Add(ref src, i * {g.LdB} + t);");
                else
                {
                    w.Open("for (; t < kc; t++)");
                    for (int i = 0; i < 8; i++) w.Line($"Unsafe.Add(ref dst, t * {NR}{(i == 0 ? "" : $" + {I(i)}")}) = Unsafe.Add(ref {g.B}, o{i} + t);");
                    w.Close();
                }
                w.Close();
            }
            if (eights < cols)
            {
                w.Open($"for (int q = {eights}; q < {cols}; q++)");
                w.Line(g.BRowStart is null
                    ? $"ref float src = ref Unsafe.Add(ref {g.B}, ({j} + q) * {g.LdB} + pc);"
                    : $"ref float src = ref Unsafe.Add(ref {g.B}, {g.BRowStart($"{j} + q")} + pc);");
                w.Line("ref float dst = ref Unsafe.Add(ref panel, q);");
                w.Line($"for (int t = 0; t < kc; t++) Unsafe.Add(ref dst, t * {NR}) = Unsafe.Add(ref src, t);");
                w.Close();
            }
            if (cols < NR) w.Line($"for (int t = 0; t < kc; t++) for (int q = {cols}; q < {NR}; q++) Unsafe.Add(ref panel, t * {NR} + q) = 0f;");
        }

        /// <summary>An 8 x 8 AVX register transpose (the caller checks Avx.IsSupported): rows r0..r7 from
        /// <paramref name="load"/>(i), then <paramref name="before"/>, then <paramref name="store"/>(i, column i's
        /// expression) for each column. 24 shuffles: unpacks, 64-bit shuffles, 128-bit lane permutes.</summary>
        internal static void EmitTranspose8x8(CodeWriter w, Func<int, string> load, string? before, Func<int, string, string> store)
        {
            const string X86 = "System.Runtime.Intrinsics.X86.Avx";
            for (int i = 0; i < 8; i++) w.Line($"Vector256<float> r{i} = {load(i)};");
            for (int i = 0; i < 8; i += 2)
                w.Line($"Vector256<float> l{i} = {X86}.UnpackLow(r{i}, r{i + 1}), h{i} = {X86}.UnpackHigh(r{i}, r{i + 1});");
            w.Line($"Vector256<float> s0 = {X86}.Shuffle(l0, l2, 0x44), s1 = {X86}.Shuffle(l0, l2, 0xEE), s2 = {X86}.Shuffle(h0, h2, 0x44), s3 = {X86}.Shuffle(h0, h2, 0xEE);");
            w.Line($"Vector256<float> s4 = {X86}.Shuffle(l4, l6, 0x44), s5 = {X86}.Shuffle(l4, l6, 0xEE), s6 = {X86}.Shuffle(h4, h6, 0x44), s7 = {X86}.Shuffle(h4, h6, 0xEE);");
            if (before is not null) w.Line(before);
            for (int l = 0; l < 8; l++)
                w.Line(store(l, $"{X86}.Permute2x128(s{l % 4}, s{l % 4 + 4}, {(l < 4 ? "0x20" : "0x31")})"));
        }

        private static string TileName(BroadcastGemm g, int rows, string kind = "") => $"{g.Name}Tile{rows}x{kind}";

        /// <summary>The first row of a prepacked B's GEMM (its rows share out the next block's prefetches from there).</summary>
        private static string PrepackedFirstRow(BroadcastGemm g) => g.RowRange ? "rBegin" : "0";

        /// <summary>Row tile heights for a GEMM over all of a constant <paramref name="rows"/> (no row range, no row blocks) whose
        /// last full-height tile would leave 1 to 3 rows over: as many tiles as full-height tiling needs, their heights
        /// differing by at most one, so no tile is shorter than 4 rows. A 1-3 row tile runs its few FMA chains into the FMA
        /// latency (4 cycles per step whatever its height, 2 FMAs per cycle), so it costs about as much as a 4-row tile:
        /// 49 pixels (a 7 x 7 map at batch 1, its pixels as rows) as 8 x 6 + 1 cost 52 rows' time, as 4 x 6 + 5 x 5 cost 49.
        /// Null when full-height tiles and their remainder are already as good. The FMAs per element of C are the same either
        /// way, in the same order, so results are identical.</summary>
        internal static (int Tall, int TallTiles, int Short)? EvenHeights(int? rows, int MR)
        {
            if (rows is not int m || m <= MR || m % MR == 0 || m % MR >= 4) return null;
            int tiles = (m + MR - 1) / MR, shortRows = m / tiles;
            if (shortRows < 4) return null;
            return (shortRows + 1, m % tiles, shortRows);
        }

        /// <summary>A constant row count's tiling: full-height tiles and their remainder, or <see cref="EvenHeights"/>.</summary>
        private readonly record struct Tiling(int Rows, (int Tall, int TallTiles, int Short)? Even);

        /// <summary>The micro-kernel heights the tiles of <paramref name="rows"/> rows (a constant, or any count) call.</summary>
        private static int[] TileHeights(int? rows, (int Tall, int TallTiles, int Short)? even, int MR)
        {
            if (even is var (tall, tallTiles, shortRows)) return tallTiles > 0 ? new[] { tall, shortRows } : new[] { shortRows };
            if (rows is not int m) return new[] { MR, 1 };
            if (m < MR) return new[] { m };
            return m % MR != 0 ? new[] { MR, m % MR } : new[] { MR };
        }

        /// <summary>The tiles of one strip: full MR-row tiles, then the remainder (a constant count, or single rows), or the
        /// <see cref="EvenHeights"/> tiles when <paramref name="even"/> is set. With <paramref name="pair"/>, a pair of workers
        /// (parts == 2) tiles its half of the rows (<see cref="PairRows"/>) that way instead.</summary>
        private static void EmitRowTiles(CodeWriter w, BroadcastGemm g, int NR, int MR, (int Tall, int TallTiles, int Short)? even, Tiling? pair, string r0, string rowEnd, string load, int edgeCols, string j, string b, string kind = "", string? beforeTile = null)
        {
            w.Line($"int r = {r0};");
            if (pair is not Tiling half)
            {
                EmitTiles(w, g, NR, MR, g.RowsConst, even, r0, rowEnd, load, edgeCols, j, b, kind, beforeTile);
                return;
            }
            w.Open("if (parts == 2)");
            w.Line($"// a pair of workers: {half.Rows} rows each (GemmEmitter.PairRows)");
            EmitTiles(w, g, NR, MR, half.Rows, half.Even, r0, rowEnd, load, edgeCols, j, b, kind, beforeTile);
            w.Close();
            w.Open("else");
            EmitTiles(w, g, NR, MR, g.RowsConst, even, r0, rowEnd, load, edgeCols, j, b, kind, beforeTile);
            w.Close();
        }

        /// <summary>Row tiles from r up to <paramref name="rowEnd"/>, which lies <paramref name="rows"/> rows on (a constant when
        /// known) or, in a row range, the last worker's.</summary>
        private static void EmitTiles(CodeWriter w, BroadcastGemm g, int NR, int MR, int? rows, (int Tall, int TallTiles, int Short)? even, string r0, string rowEnd, string load, int edgeCols, string j, string b, string kind, string? beforeTile)
        {
            if (even is var (tall, tallTiles, shortRows))
            {
                int tiles = (rows!.Value + MR - 1) / MR;
                w.Line($"// {I(rows.Value)} rows as {(tallTiles > 0 ? $"{tallTiles} tile{(tallTiles == 1 ? "" : "s")} of {tall} and " : "")}{tiles - tallTiles}{(tallTiles > 0 ? "" : $" tile{(tiles == 1 ? "" : "s")}")} of {shortRows}: none shorter than 4 rows (GemmEmitter.EvenHeights)");
                if (tallTiles > 0)
                {
                    w.Open($"for (; r < {(r0 == "0" ? "" : r0 + " + ")}{tallTiles * tall}; r += {tall})");
                    if (beforeTile is not null) w.Line(beforeTile);
                    TileCall(w, g, NR, tall, load, edgeCols, j, b, kind);
                    w.Close();
                }
                w.Open($"for (; r < {rowEnd}; r += {shortRows})");
                if (beforeTile is not null) w.Line(beforeTile);
                TileCall(w, g, NR, shortRows, load, edgeCols, j, b, kind);
                w.Close();
                return;
            }
            if (rows is int m && m < MR)
            {
                TileCall(w, g, NR, m, load, edgeCols, j, b, kind);
                return;
            }
            w.Open($"for (; r + {MR} <= {rowEnd}; r += {MR})");
            if (beforeTile is not null) w.Line(beforeTile);
            TileCall(w, g, NR, MR, load, edgeCols, j, b, kind);
            w.Close();
            if (rows is int m2)
            {
                if (m2 % MR == 0) return;
                w.Open($"if (r < {rowEnd})");
                TileCall(w, g, NR, m2 % MR, load, edgeCols, j, b, kind);
                w.Close();
            }
            else
            {
                w.Open($"for (; r < {rowEnd}; r++)");
                TileCall(w, g, NR, 1, load, edgeCols, j, b, kind);
                w.Close();
            }
        }

        private static void TileCall(CodeWriter w, BroadcastGemm g, int NR, int rows, string load, int edgeCols, string j, string b, string kind)
        {
            string a = $"ref Unsafe.Add(ref {g.A}, r * {g.LdAr} + pc * {g.LdAt})";
            string init = g.Init is not null && !g.Accumulate ? $", ref Unsafe.Add(ref {g.Init}, r)" : "";
            // a prepacked B's tiles: their rows' share of the next block of B to prefetch (EmitMicroKernel)
            if (g.BPrepacked) init += $", ref Unsafe.Add(ref {g.B}, Math.Max(nextAt, 0) + (r - {PrepackedFirstRow(g)}) * perRow * 16), Math.Min({rows} * perRow, lines - (r - {PrepackedFirstRow(g)}) * perRow)";
            if (edgeCols == 0)
            {
                w.Line($"{TileName(g, rows, kind)}({a}, ref {b}, ref Unsafe.Add(ref {g.C}, r * {g.LdC} + {j}), {g.LdC}, kc, {load}{init});");
                return;
            }
            w.Line($"ref float ct = ref Unsafe.Add(ref {g.C}, r * {g.LdC} + {j});");
            if (load != "false")
                w.Line($"{(load == "true" ? "" : $"if ({load}) ")}for (int i = 0; i < {rows}; i++) for (int q = 0; q < {edgeCols}; q++) Unsafe.Add(ref edge, i * {NR} + q) = Unsafe.Add(ref ct, i * {g.LdC} + q);");
            w.Line($"{TileName(g, rows, kind)}({a}, ref {b}, ref edge, {NR}, kc, {load}{init});");
            w.Line($"for (int i = 0; i < {rows}; i++) for (int q = 0; q < {edgeCols}; q++) Unsafe.Add(ref ct, i * {g.LdC} + q) = Unsafe.Add(ref edge, i * {NR} + q);");
        }

        /// <summary>A register tile: <paramref name="rows"/> rows x two vectors of C, or for a last strip of at most one
        /// vector ("Narrow") x one vector, or of at most half a vector ("Half") x one half-width vector. The same FMAs in the
        /// same order per column either way, so results are identical.</summary>
        private static void EmitMicroKernel(CodeWriter w, BroadcastGemm g, IsaTarget isa, int rows, string kind)
        {
            bool narrow = kind is "Narrow" or "Half", inPlace = kind == "InPlace";
            int W = kind == "Half" ? isa.Width / 2 : isa.Width, vectors = narrow ? 1 : 2, NR = vectors * W;
            var (V, VT) = VectorOf(isa, W);
            bool init = g.Init is not null && !g.Accumulate;
            w.Line($"// {rows} rows x {NR} columns of C in {vectors * rows} registers; a: A(r, pc), b: {(inPlace ? $"B itself (row stride {g.LdB})" : "the packed panel")}, c: C(r, j) with row stride ldc");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
            bool spread = g.BPrepacked; // prefetches pfLines lines of the next block of B from pf, spread over the depth steps
            w.Open($"static void {TileName(g, rows, kind)}(ref float a, ref float b, ref float c, nuint ldc, int kc, bool load{(init ? ", ref float init" : "")}{(spread ? ", ref float pf, int pfLines" : "")})");
            w.Line(string.Join(", ", Enumerable(rows).SelectMany(i => Enumerable(vectors).Select(v => $"c{i}{v}"))).Insert(0, VT + " ") + ";");
            w.Open("if (load)");
            for (int i = 0; i < rows; i++)
            {
                string row = i == 0 ? "" : i == 1 ? "ldc" : $"{i} * ldc";
                w.Line($"c{i}0 = {V}.LoadUnsafe(ref c{(row.Length > 0 ? ", " + row : "")});");
                if (!narrow) w.Line($"c{i}1 = {V}.LoadUnsafe(ref c, {(row.Length > 0 ? row + " + " : "")}{W});");
            }
            w.Close();
            w.Open("else");
            for (int i = 0; i < rows; i++)
            {
                string v = init ? $"{V}.Create(Unsafe.Add(ref init, {i}))" : $"{VT}.Zero";
                w.Line($"c{i}0 = {v};");
                if (!narrow) w.Line($"c{i}1 = c{i}0;");
            }
            w.Close();
            bool prefetchA = g.PrefetchA && g.LdAt == 1, prefetch = prefetchA || spread;
            if (spread) w.Line("int per = pfLines > 0 ? (pfLines * 16 + kc - 1) / kc : 0, done = 0; // lines of the next block of B every 16 steps");
            if (prefetch)
            {
                if (prefetchA)
                {
                    w.Line("// the next tile's rows of A (same depth block) toward L2, one line per row every 16 steps (all at once overflows the");
                    w.Line("// miss queue): a run of one depth block per row is too short for the hardware prefetcher to follow, and A (the");
                    w.Line("// weights) streams from memory");
                }
                w.Open("for (int t0 = 0; t0 < kc; t0 += 16)");
                if (prefetchA) w.Line(string.Join(" ", Enumerable(rows).Select(i => $"CacheHints.PrefetchL2(ref Unsafe.Add(ref a, {I((rows + i) * g.LdAr)}));")));
                if (spread) w.Line("for (int e = Math.Min(done + per, pfLines); done < e; done++) CacheHints.PrefetchL2(ref Unsafe.Add(ref pf, done * 16));");
                w.Open("for (int t = t0, tEnd = Math.Min(t0 + 16, kc); t < tEnd; t++)");
            }
            else w.Open("for (int t = 0; t < kc; t++)");
            w.Line($"{VT} b0 = {V}.LoadUnsafe(ref b);");
            if (!narrow) w.Line($"{VT} b1 = {V}.LoadUnsafe(ref b, {W});");
            for (int i = 0; i < rows; i++)
            {
                string ai = i == 0 ? "a" : $"Unsafe.Add(ref a, {I(i * g.LdAr)})";
                w.Line($"{(i == 0 ? VT + " " : "")}ai = {V}.Create({ai});");
                w.Line($"c{i}0 = {V}.MultiplyAddEstimate(ai, b0, c{i}0);");
                if (!narrow) w.Line($"c{i}1 = {V}.MultiplyAddEstimate(ai, b1, c{i}1);");
            }
            w.Line($"a = ref Unsafe.Add(ref a, {g.LdAt});");
            w.Line($"b = ref Unsafe.Add(ref b, {(inPlace ? g.LdB : NR)});");
            w.Close();
            if (prefetch) w.Close();
            for (int i = 0; i < rows; i++)
            {
                string row = i == 0 ? "" : i == 1 ? "ldc" : $"{i} * ldc";
                w.Line($"c{i}0.StoreUnsafe(ref c{(row.Length > 0 ? ", " + row : "")});");
                if (!narrow) w.Line($"c{i}1.StoreUnsafe(ref c, {(row.Length > 0 ? row + " + " : "")}{W});");
            }
            w.Close();
        }

        private static string Row(int rr) => rr == 0 ? "r" : $"r + {rr}";

        private static System.Collections.Generic.IEnumerable<int> Enumerable(int n)
        {
            for (int i = 0; i < n; i++) yield return i;
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
