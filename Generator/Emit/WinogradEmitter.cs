// Winograd F(4x4, 3x3) kernels (Lavin & Gray 2015) for 3x3 stride-1 pad-1 convs (MemoryPlanner.IsWinograd): forward,
// the input gradient, which is the same kind of conv from the output channels back to the input channels with the
// filters transposed and rotated (Runtime/Winograd.cs transforms the weights for both), and the weight gradient
// (WinogradWeightGradient: dU = sum over tiles of (A dy A^T) (B^T x B)^T, then dW += G^T dU G). Forward, per image:
//   1. the input planes, zero padded, with each row's columns split into four phases (padded column 4q + p at [p][q]),
//      so the j-th column of four (or eight) neighbouring 6x6 tiles (tile stride 4) is one contiguous vector;
//   2. V[xi][c][t] = (B^T d B)[xi] for every tile t and channel c, four (or eight) tiles side by side;
//   3. 36 GEMMs M[xi] [Cout x tiles] = U[xi] [Cout x Cin] * V[xi] [Cin x tiles] (GemmEmitter, per ISA);
//   4. y = A^T M A + bias for every tile, four (or eight) tiles side by side, written back row by row.
// 36 multiplications per tile and channel pair instead of 144 (4x fewer; the transforms are additions and small
// constants). The transforms take four tiles per Vector128 (a 13-pixel map has four tiles per row), or on the AVX2 and
// AVX-512 sets eight per Vector256 when a row has 8 tiles or more (TileGroup); the GEMMs use the ISA's register tiles.
// A team (inference on fewer images than workers) splits the output channels of steps 3-4. Steps 1-2 it splits by input
// channels into one shared V (a barrier before the GEMMs read it) when its cores share a cache (TeamProbe: the
// workers' round trips at the job's start); else every worker runs them on the whole input into its own columns. On
// the 2-vCPU VMs, with cores that share an L3 the shared V is 4-5% faster (every worker spares half the transform);
// with cores that do not it took twice the time (1x64x56x56, 2 threads: 1.0-1.2 ms where the workers' own transforms
// take 0.56-0.58). A pair of workers on a large map (PairSplitsTiles: ResNet's 56 x 56 stage) splits its tile rows
// instead: each runs steps 1-4 on its own half of the tiles, sharing nothing (1x64x56x56, 2 threads: medians
// 0.57-0.61 -> 0.50-0.56 ms).
using System;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Plan;

namespace CnnGen.Generator.Emit
{
    internal sealed partial class KernelEmitter
    {
        /// <summary>The Winograd kernel of a conv's forward (bias from the layer) or, with <paramref name="inputGradient"/>,
        /// of its input gradient (dy -> dx: output channels to input channels, no bias).</summary>
        public string Winograd(CheckedLayer l, IsaTarget isa, bool inputGradient = false)
        {
            int C = inputGradient ? l.Output.C : l.Input.C, M = inputGradient ? l.Input.C : l.Output.C;
            int H = l.Output.H, W = l.Output.W; // pad 1, stride 1: the output is as large as the input
            bool bias = !inputGradient && l.Bias;
            var (TH, TW) = MemoryPlanner.WinogradTiles(H, W);
            int T = TH * TW, QW = TW + 1, RP = 4 * TH + 2, HW = H * W;
            long PL = MemoryPlanner.WinogradPlaneLength(H, W);
            // CT, MT: the distance between two of the 36 matrices of V and M (a little more than C x T, M x T floats)
            long CT = MemoryPlanner.WinogradMatrixStride((long)C * T), MT = MemoryPlanner.WinogradMatrixStride((long)M * T);
            long XD = MemoryPlanner.RoundUp(PL * C), VL = 36 * CT;
            string name = $"Winograd{C}x{H}x{W}To{M}{(bias ? "" : "NoBias")}_{isa.Name}";
            string conv = $"Conv2D {Chw(l.Input)} -> {Chw(l.Output)} (C x H x W per image), kernel 3x3, stride 1, padding 1{(l.Bias ? "" : ", no bias")}";
            string what = inputGradient ? $"Input gradient (dy -> dx) of {conv}" : $"Forward of {conv}";
            return Use(name, l.Name, $"{what}, as Winograd F(4x4, 3x3): {C}x{H}x{W} -> {M}x{H}x{W}, {TH}x{TW} tiles of 4x4 outputs; " +
                $"36 GEMMs [{M} x {C}] * [{C} x {T}] on the transformed tiles{(bias ? ", plus the bias" : "")}.", w =>
            {
                int MR = GemmEmitter.TileRows(isa);
                bool pairTiles = PairSplitsTiles(TH, TW);
                w.Line("// u: the transformed weights, 36 matrices [" + M + " x " + C + "] (Winograd.TransformWeights). part/parts: a team");
                w.Line("// shares each image, each worker taking its own output channels' GEMM rows and outputs. With shareInput (cores");
                w.Line("// that share a cache: TeamProbe, per job) the workers transform their shares of the input channels into one V");
                w.Line("// in the team's scratch (worker 0's columns) and meet at the barrier; else each transforms the whole input into its");
                w.Line("// own columns (no barrier, nothing read across cores).");
                if (pairTiles)
                {
                    w.Line($"// A pair of workers (the usual team: two cores) splits the {TH} tile rows instead: each transforms the input rows");
                    w.Line($"// under its {TH / 2} tile rows into its own columns and computes all {M} output channels of its {T / 2} tiles, with no");
                    w.Line("// barrier, nothing read across cores and no work done twice (KernelEmitter.PairSplitsTiles).");
                }
                w.Open($"private static void {name}(ref float x, ref float u, ref float bias, ref float y, ref float col, ref float team, SpinBarrier? barrier, bool shareInput, int batch, int part, int parts)");
                GemmEmitter.DeclareScratch(w, isa);
                int TG = TileGroup(isa, TW);
                string V = TG == 8 ? "Vector256" : "Vector128";
                w.Line($"Span<float> outSpan = stackalloc float[{16 * TG}]; // one output block: 4 rows x 4 columns of {TG} tiles");
                w.Line("ref float ob = ref MemoryMarshal.GetReference(outSpan);");
                if (pairTiles)
                {
                    w.Open("if (parts == 2)");
                    w.Line($"int th0 = part * {TH / 2}, th1 = th0 + {TH / 2}; // this worker's tile rows");
                    w.Line($"int tFirst = th0 * {TW}; // its first tile: its columns of V and M are [tFirst, tFirst + {T / 2})");
                    w.Line($"ref float pxd = ref col; // [{C}][{RP} rows][4 phases][{QW}]: padded input planes (only the rows under this worker's tiles)");
                    w.Line($"ref float pv = ref Unsafe.Add(ref col, {XD}); // [36][{C}][{T}] ({CT} floats apart): transformed input tiles (this worker's columns)");
                    w.Line($"ref float pmm = ref Unsafe.Add(ref col, {XD + VL}); // [36][{M}][{T}] ({MT} floats apart): their products with the weights");
                    w.Line($"for (int c = 0; c < {C}; c++) PadRows(ref Unsafe.Add(ref pxd, c * {PL}), 4 * th0, 4 * th1 + 2); // the padding this worker reads is zero");
                    w.Open("for (int n = 0; n < batch; n++)");
                    w.Line($"ref float xn = ref Unsafe.Add(ref x, n * {(long)C * HW});");
                    w.Line($"ref float yn = ref Unsafe.Add(ref y, n * {(long)M * HW});");
                    w.Line("// 1. the input rows under this worker's tiles in phase layout, then 2. V[xi][c][t] = (B^T d B)[xi] for its tiles");
                    EmitTransformPlanes(w, C, "c", "xn", "pxd", "pv", "InputTiles", H, W, TW, QW, PL, T, TG, tileRows: ("th0", "th1"));
                    w.Line($"// 3. M[xi] = U[xi] * V[xi] on this worker's {T / 2} tiles, every output channel");
                    EmitProducts(w, isa, "TileProducts", M, C, T, CT, MT, "pv", "pmm", " + tFirst", T / 2, rowRange: false);
                    EmitOutputTransform(w, bias, V, M, T, TW, HW, TG, "0", I(M), "th0", "th1", "pmm");
                    w.Close(); // images
                    w.Close();
                    w.Open("else");
                }
                w.Line(GemmEmitter.RowShare(M, MR));
                w.Line("bool shared = shareInput && parts > 1;");
                w.Line($"int cBegin = shared ? part * {C} / parts : 0, cEnd = shared ? (part + 1) * {C} / parts : {C}; // this worker's input channels to transform");
                w.Line("ref float transforms = ref shared ? ref team : ref col;");
                w.Line($"ref float xd = ref transforms; // [{C}][{RP} rows][4 phases][{QW}]: padded input planes, padded column 4q + p at [p][q]");
                w.Line($"ref float v = ref Unsafe.Add(ref transforms, {XD}); // [36][{C}][{T}] ({CT} floats apart): transformed input tiles");
                w.Line($"ref float mm = ref Unsafe.Add(ref col, {XD + VL}); // [36][{M}][{T}] ({MT} floats apart): their products with the weights (each worker's own)");
                w.Line($"for (int c = cBegin; c < cEnd; c++) PadRows(ref Unsafe.Add(ref xd, c * {PL}), 0, {RP}); // the padding is zero; every image overwrites the interior");
                w.Open("for (int n = 0; n < batch; n++)");
                w.Line($"ref float xn = ref Unsafe.Add(ref x, n * {(long)C * HW});");
                w.Line($"ref float yn = ref Unsafe.Add(ref y, n * {(long)M * HW});");
                w.Line("if (shared && n > 0) barrier!.SignalAndWait(parts); // the team is done with the last image's V");

                w.Line("// 1. each input plane in phase layout (padded row h + 1, padded column w + 1), then 2. V[xi][c][t] = (B^T d B)[xi]");
                w.Line($"//    for every 6x6 input tile d, {TG} tiles at a time (the last group of a row overlaps the one before when the row's");
                w.Line($"//    tile count is not a multiple of {TG}); this worker's channels");
                EmitTransformPlanes(w, C, "c", "xn", "xd", "v", "InputTiles", H, W, TW, QW, PL, T, TG, begin: "cBegin", end: "cEnd");
                w.Line("if (shared) barrier!.SignalAndWait(parts); // V is whole");

                w.Line($"// 3. M[xi] = U[xi] * V[xi] for this worker's output channels");
                EmitProducts(w, isa, "Products", M, C, T, CT, MT, "v", "mm", "", T, rowRange: true);

                EmitOutputTransform(w, bias, V, M, T, TW, HW, TG, "rBegin", "rEnd", "0", I(TH), "mm");
                w.Close(); // images
                if (pairTiles) w.Close();

                EmitPadRows(w, H, W, QW);
                EmitPhases(w, W, QW);
                EmitInputTiles(w, QW, CT, TG);
                EmitOutputTiles(w, MT, TG);
                EmitStoreTiles(w, H, W, TG);
                w.Close();
            });
        }

        /// <summary>A Winograd weight gradient whose batch-split workers each keep a whole dU of their own images and add
        /// G^T dU G to their own gradient buffer, instead of sharing dU by rows (which meets at a barrier twice per chunk and
        /// reads the other worker's transforms across cores): when dU ([36][Cout][Cin]) fits the L2, each worker's chunk GEMMs
        /// keep it there, and the doubled dU traffic and the second pass over dW cost less. Measured on the AVX2 Zen 3 VM, 2
        /// workers, bests of alternating runs: the seed net's 36 -> 72 layer (dU 364 KiB) on 64 images 3.20 / 3.37 -> 2.92 /
        /// 3.26 ms and its training step 21.6-21.7 -> 20.8-21.2 ms; 16 x 64 x 56 x 56 -> 64 (576 KiB) 11.8-18.4 -> 10.3-11.4 ms;
        /// 16 x 128 x 28 x 28 -> 128 (2.3 MiB) about the same (9.2-9.3 vs 8.3-9.2 ms); 16 x 256 x 14 x 14 -> 256 (9 MiB)
        /// 13.1-14.9 -> 21.3-24.5 ms, so that one keeps the row split.</summary>
        internal static bool IsWinogradGradientPerWorker(CheckedLayer l) => 36L * l.Output.C * l.Input.C * 4 <= GemmEmitter.L2Bytes;

        /// <summary>The Winograd kernel of a conv's weight (and bias) gradient: with V = B^T x B per input tile and
        /// G' = A dy A^T per output tile (6x6 from the 4x4 gradient), dU[xi] = sum over tiles and images of G'[xi] * V[xi]^T
        /// (36 GEMMs [Cout x tiles] * [tiles x Cin]); at the end dW += G^T dU G (Winograd.AccumulateWeightGradient).
        /// The images go in chunks (MemoryPlanner.WinogradGradientImages per worker), so each GEMM is a chunk's tiles deep and
        /// dU is loaded and stored once per chunk. The workers of a batch-split backward (parts > 1) share the layer: each
        /// transforms its own images into its columns, then at a barrier each takes its own output channels' rows of dU
        /// over every worker's chunk, and their rows of dW.</summary>
        public string WinogradWeightGradient(CheckedLayer l, IsaTarget isa)
        {
            int C = l.Input.C, M = l.Output.C, H = l.Output.H, W = l.Output.W;
            var (TH, TW) = MemoryPlanner.WinogradTiles(H, W);
            int T = TH * TW, QW = TW + 1, HW = H * W;
            int G = MemoryPlanner.WinogradGradientImages(H, W), GT = G * T;
            long PL = MemoryPlanner.WinogradPlaneLength(H, W);
            long XD = MemoryPlanner.RoundUp(PL * C), DD = MemoryPlanner.RoundUp(PL * M);
            // CT, MT: the distance between two of the 36 matrices of a chunk's V and G' ([C x G*T], [M x G*T] floats and a little more)
            long CT = MemoryPlanner.WinogradMatrixStride((long)C * GT), MT = MemoryPlanner.WinogradMatrixStride((long)M * GT);
            long VL = 36 * CT, GL = 36 * MT;
            string name = $"Winograd{C}x{H}x{W}To{M}{(l.Bias ? "" : "NoBias")}_WeightGradient_{isa.Name}";
            string conv = $"Conv2D {Chw(l.Input)} -> {Chw(l.Output)} (C x H x W per image), kernel 3x3, stride 1, padding 1{(l.Bias ? "" : ", no bias")}";
            return Use(name, l.Name, $"Weight{(l.Bias ? " and bias" : "")} gradient of {conv}, as Winograd F(4x4, 3x3): {TH}x{TW} tiles; " +
                $"36 GEMMs [{M} x {T} per image] * [{T} per image x {C}] over chunks of {G} image{(G == 1 ? "" : "s")} per worker summed into dU, then dW += G^T dU G.", w =>
            {
                int MR = GemmEmitter.TileRows(isa);
                bool own = IsWinogradGradientPerWorker(l);
                w.Line($"// dw: the weight gradient [{M} x {C} x 3 x 3] (added to: {(own ? "every row" : "this worker's rows")}); db: the bias gradient (added to: this");
                w.Line("// worker's images) or null. x, dy: this worker's count images. A batch-split backward's workers (part of parts; worker q");
                w.Line("// holds images [q * per, q * per + per) of the batch, fewer in the last) run this together, each on its own columns (col;");
                if (own)
                {
                    w.Line($"// worker q's at col + (q - part) * workerStride). Here dU is small ({36L * M * C * 4 / 1024} KiB): each worker sums its own images into");
                    w.Line("// its own dU and adds G^T dU G to the whole of its own dw (the step then sums the workers' gradient buffers), with no");
                    w.Line("// barrier and no reads of another core's transforms.");
                }
                else w.Line("// worker q's at col + (q - part) * workerStride), meeting at the barrier twice per chunk.");
                w.Open($"private static void {name}(ref float x, ref float dy, ref float dw, ref float db, ref float col, nint workerStride, SpinBarrier? barrier, int count, int per, int batch, int part, int parts)");
                if (!own) w.Line(GemmEmitter.RowShare(M, MR) + " // this worker's rows of dU and dW");
                GemmEmitter.DeclareScratch(w, isa);
                w.Line($"ref float xd = ref col; // [{C}][padded rows][4 phases][{QW}]: the input planes, as in the forward");
                w.Line($"ref float dyd = ref Unsafe.Add(ref col, {XD}); // [{M}][...]: the output gradient planes in the same layout");
                w.Line($"ref float v = ref Unsafe.Add(ref col, {XD + DD}); // [36][{C}][{G} x {T}] ({CT} floats apart): B^T x B per tile of the chunk's images");
                w.Line($"ref float g = ref Unsafe.Add(ref col, {XD + DD + VL}); // [36][{M}][{G} x {T}] ({MT} floats apart): A dy A^T per tile");
                w.Line($"ref float du = ref Unsafe.Add(ref col, {XD + DD + VL + GL}); // [36][{M}][{C}]: the gradient of the transformed weights ({(own ? "this worker's images" : "this worker's rows")})");
                w.Line($"MemoryMarshal.CreateSpan(ref xd, {XD + DD}).Clear(); // the padding stays zero; every image overwrites the interior");
                w.Line($"// (dU is not cleared: the first chunk's GEMMs store into it, saving a pass over its {36L * M * C * 4 / 1024} KiB)");
                w.Line(own
                    ? $"int chunks = (count + {G - 1}) / {G}; // this worker's chunks"
                    : $"int chunks = (per + {G - 1}) / {G}; // as many for every worker: worker 0 has the most images");
                w.Open("for (int chunk = 0; chunk < chunks; chunk++)");
                w.Line($"int chunkFirst = chunk * {G}, chunkImages = Math.Clamp(count - chunkFirst, 0, {G}); // this worker's images of the chunk");
                w.Open("for (int i = 0; i < chunkImages; i++)");
                w.Line($"ref float xn = ref Unsafe.Add(ref x, (chunkFirst + i) * {(long)C * HW});");
                w.Line($"ref float dyn = ref Unsafe.Add(ref dy, (chunkFirst + i) * {(long)M * HW});");
                w.Line($"ref float vi = ref Unsafe.Add(ref v, i * {T});");
                w.Line($"ref float gi = ref Unsafe.Add(ref g, i * {T});");
                w.Line("// V = B^T x B for every input tile, as in the forward");
                int TG = TileGroup(isa, TW);
                EmitTransformPlanes(w, C, "c", "xn", "xd", "vi", "InputTiles", H, W, TW, QW, PL, T, TG, rowStride: GT);
                w.Line("// G' = A dy A^T for every output tile (the gradient outside the map is the planes' zero padding)");
                EmitTransformPlanes(w, M, "m", "dyn", "dyd", "gi", "GradientTiles", H, W, TW, QW, PL, T, TG, rowStride: GT);
                w.Close(); // images
                if (l.Bias)
                {
                    // Row 1 of A is all ones, so G'[6 * 1 + 1] of a tile is the sum of its 4 x 4 gradients (zero outside the map), and
                    // every tile has one column of G': summing that row sums dy over the chunk's images, 16x fewer additions.
                    w.Line("// db += the sum of dy over the chunk's images: G'[7] (row 1 of A is all ones) holds each tile's sum of dy");
                    w.Line($"for (int m = 0; m < {M}; m++) Unsafe.Add(ref db, m) += System.Numerics.Tensors.TensorPrimitives.Sum<float>(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref g, {7 * MT} + m * {GT}), chunkImages * {T}));");
                }
                if (!own) w.Line("if (parts > 1) barrier!.SignalAndWait(parts); // every worker's transforms of the chunk are whole");
                if (own) w.Line("// dU[xi] = G'[xi] * V[xi]^T over this worker's images of the chunk (stored for the first chunk, added for the rest)");
                else
                {
                    w.Line("// dU[xi] = G'[xi] * V[xi]^T over every worker's images of the chunk (stored for the first, added for the rest), this");
                    w.Line("// worker's rows; dU[xi]'s rows stay in L2 across the workers' blocks");
                }
                w.Open("for (int xi = 0; xi < 36; xi++)");
                w.Line($"ref float dux = ref Unsafe.Add(ref du, xi * {(long)M * C});");
                if (!own)
                {
                    w.Open("for (int wq = 0; wq < parts; wq++)");
                    w.Line($"int depth = Math.Clamp(Math.Min(per, batch - wq * per) - chunkFirst, 0, {G}) * {T}; // worker wq's tiles of the chunk");
                    w.Line("if (depth == 0) continue;");
                    w.Line("ref float wblock = ref Unsafe.Add(ref col, (wq - part) * workerStride); // worker wq's columns");
                }
                string block = own ? "col" : "wblock";
                w.Line($"ref float gx = ref Unsafe.Add(ref {block}, {XD + DD + VL} + xi * {MT});");
                w.Line($"ref float vx = ref Unsafe.Add(ref {block}, {XD + DD} + xi * {CT});");
                GemmEmitter.Emit(w, new BroadcastGemm
                {
                    Name = "Gradients", Rows = I(M), RowsConst = M, N = C, T = own ? $"chunkImages * {T}" : "depth",
                    A = "gx", LdAr = GT, LdAt = 1, B = "vx", LdB = GT, BTransposed = true, C = "dux", LdC = C, AccumulateIf = own ? "chunk > 0" : "chunk > 0 || wq > 0",
                    RowRange = !own, PrefetchC = !own, // the row split is for a dU larger than L2: prefetch its next tile
                }, isa);
                if (!own) w.Close(); // workers
                w.Close(); // xi
                if (!own) w.Line("if (parts > 1) barrier!.SignalAndWait(parts); // every worker is done reading the chunk's transforms: they may be overwritten");
                w.Close(); // chunks
                w.Line(own
                    ? $"if (chunks > 0) global::CnnGen.Winograd.AccumulateWeightGradient(MemoryMarshal.CreateReadOnlySpan(ref du, {36L * M * C}), {M}, {C}, MemoryMarshal.CreateSpan(ref dw, {9L * M * C}));"
                    : $"global::CnnGen.Winograd.AccumulateWeightGradient(MemoryMarshal.CreateReadOnlySpan(ref du, {36L * M * C}), {M}, {C}, MemoryMarshal.CreateSpan(ref dw, {9L * M * C}), rBegin, rEnd);");

                EmitPhases(w, W, QW);
                EmitInputTiles(w, QW, CT, TG);
                EmitGradientTiles(w, QW, MT, TG);
                w.Close();
            });
        }

        /// <summary>Whether a pair of workers sharing an image splits a Winograd forward's tile rows (each transforming the input
        /// under its own tiles and computing every output channel of them) rather than its output channels (one input
        /// transform shared at a barrier, or done by both): an even number of tile rows, at least 64 tiles a worker (ResNet's
        /// 56 x 56 stage: 98 each). The output-channel split costs the pair a barrier and V read across cores, or the whole
        /// transform twice; smaller maps keep it, as half their tiles make too narrow a GEMM (28 x 28: 49 tiles, 14 x 14: 16).</summary>
        internal static bool PairSplitsTiles(int tileRows, int tilesPerRow) => tileRows % 2 == 0 && tileRows / 2 * tilesPerRow >= 64;

        /// <summary>Step 3 of the forward: M[xi] = U[xi] * V[xi] for the 36 matrices, on <paramref name="columns"/> of the T tiles
        /// from <paramref name="firstTile"/> (an offset expression, or empty) and, with <paramref name="rowRange"/>, only rows
        /// [rBegin, rEnd).</summary>
        private static void EmitProducts(CodeWriter w, IsaTarget isa, string name, int M, int C, int T, long CT, long MT, string v, string mm,
            string firstTile, int columns, bool rowRange)
        {
            w.Open("for (int xi = 0; xi < 36; xi++)");
            w.Line($"ref float ux = ref Unsafe.Add(ref u, xi * {(long)M * C});");
            w.Line($"ref float vx = ref Unsafe.Add(ref {v}, xi * {CT}{firstTile});");
            w.Line($"ref float mx = ref Unsafe.Add(ref {mm}, xi * {MT}{firstTile});");
            GemmEmitter.Emit(w, new BroadcastGemm
            {
                Name = name, Rows = I(M), RowsConst = M, N = columns, T = I(C), TConst = C,
                A = "ux", LdAr = C, LdAt = 1, B = "vx", LdB = T, C = "mx", LdC = T, RowRange = rowRange,
                // V's strips are read in place, a row of T floats apart (from L3 once V outgrows L2): each row tile asks for its
                // share of the next strips' rows (1x64x56x56, 1 thread: bests 0.968 / 0.922 -> 0.950 / 0.906 ms)
                PrefetchA = 36L * M * C * 4 > GemmEmitter.L2Bytes, BInPlace = true, PrefetchB = true,
            }, isa);
            w.Close();
        }

        /// <summary>Step 4 of the forward: y = A^T M A (+ bias) for output channels [m0, m1) and tile rows [th0, th1), TG tiles at
        /// a time, written row by row into the image.</summary>
        private static void EmitOutputTransform(CodeWriter w, bool bias, string V, int M, int T, int TW, int HW, int TG, string m0, string m1, string th0, string th1, string mm)
        {
            w.Line($"// 4. y = A^T M A{(bias ? " + bias" : "")} for every tile, {TG} tiles at a time, then row by row into the image");
            w.Open($"for (int m = {m0}; m < {m1}; m++)");
            w.Line(bias ? $"{V}<float> b = {V}.Create(Unsafe.Add(ref bias, m));" : $"{V}<float> b = {V}<float>.Zero;");
            w.Line($"ref float mt = ref Unsafe.Add(ref {mm}, m * {T});");
            w.Line($"ref float ym = ref Unsafe.Add(ref yn, m * {HW});");
            w.Open($"for (int th = {th0}; th < {th1}; th++)");
            w.Open($"for (int tw = 0; tw < {TW}; tw += {TG})");
            w.Line(FirstTile(TW, TG));
            w.Line($"OutputTiles(ref Unsafe.Add(ref mt, th * {TW} + t0), ref ob, b);");
            w.Line("StoreTiles(ref ob, ref ym, 4 * th, 4 * t0);");
            if (TG == 8) w.Line("StoreTiles(ref Unsafe.Add(ref ob, 4), ref ym, 4 * th, 4 * t0 + 16); // the group's last 4 tiles");
            w.Close().Close().Close();
        }

        /// <summary>Zeroes the padding of padded rows [r0, r1) of one plane in the phase layout: rows 0 and below the map whole,
        /// and in the map's rows padded column 0 and the columns right of it (Phases writes the rest of every row). Cheaper
        /// than clearing the plane: the 1 x 64 x 56 x 56 forward cleared 890 KiB per call (2.3% of its time on 1 thread).</summary>
        private static void EmitPadRows(CodeWriter w, int H, int W, int QW)
        {
            w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
            w.Open("static void PadRows(ref float plane, int r0, int r1)");
            w.Open("for (int r = r0; r < r1; r++)");
            w.Line($"ref float row = ref Unsafe.Add(ref plane, r * {4 * QW});");
            w.Line($"if (r == 0 || r > {H}) {{ MemoryMarshal.CreateSpan(ref row, {4 * QW}).Clear(); continue; }}");
            w.Line("row = 0f; // padded column 0");
            w.Line($"for (int pc = {W + 1}; pc < {4 * QW}; pc++) Unsafe.Add(ref row, (pc & 3) * {QW} + (pc >> 2)) = 0f; // the columns right of the map");
            w.Close();
            w.Close();
        }

        /// <summary>For each of <paramref name="channels"/> planes of <paramref name="source"/>: the plane into the phase
        /// layout (<paramref name="planes"/>), then <paramref name="tiles"/> (InputTiles or GradientTiles) on every group
        /// of 4 tiles, written to <paramref name="target"/> ([36][channels][tiles]).</summary>
        private static void EmitTransformPlanes(CodeWriter w, int channels, string ch, string source, string planes, string target, string tiles,
            int H, int W, int TW, int QW, long PL, int T, int TG, string begin = "0", string? end = null, long rowStride = 0, (string First, string End)? tileRows = null)
        {
            if (rowStride == 0) rowStride = T;
            int TH = T / TW;
            // tile rows [th0, th1) read padded rows [4 th0, 4 th1 + 2): input rows [4 th0 - 1, 4 th1 + 1) inside the map
            var (hBegin, hEnd) = tileRows is { } tr ? ($"Math.Max(0, 4 * {tr.First} - 1)", $"Math.Min({H}, 4 * {tr.End} + 1)") : ("0", I(H));
            w.Open($"for (int {ch} = {begin}; {ch} < {end ?? I(channels)}; {ch}++)");
            w.Line($"ref float src = ref Unsafe.Add(ref {source}, {ch} * {H * W});");
            w.Line($"ref float plane = ref Unsafe.Add(ref {planes}, {ch} * {PL});");
            w.Line($"for (int h = {hBegin}; h < {hEnd}; h++) Phases(ref Unsafe.Add(ref src, h * {W}), ref Unsafe.Add(ref plane, (h + 1) * {4 * QW}));");
            w.Line($"ref float tc = ref Unsafe.Add(ref {target}, {ch} * {rowStride});");
            w.Line($"for (int th = {tileRows?.First ?? "0"}; th < {tileRows?.End ?? I(TH)}; th++)");
            w.Line($"    for (int tw = 0; tw < {TW}; tw += {TG})");
            w.Line($"    {{ {FirstTile(TW, TG)} {tiles}(ref Unsafe.Add(ref plane, th * {16 * QW} + t0), ref Unsafe.Add(ref tc, th * {TW} + t0)); }}");
            w.Close();
        }

        /// <summary>A dy_t for one column of 4 output-gradient values (A = (A^T)^T, 6 x 4).</summary>
        private static string[] GradientTransform(string[] d) => new[]
        {
            d[0],
            $"{d[0]} + {d[1]} + {d[2]} + {d[3]}",
            $"{d[0]} - {d[1]} + {d[2]} - {d[3]}",
            $"{d[0]} + {d[1]} * 2f + {d[2]} * 4f + {d[3]} * 8f",
            $"{d[0]} - {d[1]} * 2f + {d[2]} * 4f - {d[3]} * 8f",
            d[3],
        };

        /// <summary>G'[xi][m][t..t+TG-1] = (A dy A^T)[xi] for TG (4 or 8) neighbouring output tiles: d at padded row 0 of the tile row
        /// (output row 4 th is padded row 4 th + 1, output column 4 t + j is padded column 4 t + j + 1).</summary>
        private static void EmitGradientTiles(CodeWriter w, int QW, long MT, int TG)
        {
            string V = TG == 8 ? "Vector256" : "Vector128";
            w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
            w.Open("static void GradientTiles(ref float d, ref float gt)");
            for (int j = 0; j < 4; j++)
            {
                int pc = j + 1;
                w.Line($"// column {j} of the tiles (padded column 4t + {pc}: phase {pc & 3}{(pc >= 4 ? ", next index" : "")}); A down the column");
                for (int i = 0; i < 4; i++) w.Line($"{V}<float> d{i}{j} = {V}.LoadUnsafe(ref d, {(i + 1) * 4 * QW + (pc & 3) * QW + (pc >> 2)});");
                string[] t = GradientTransform(Enumerable.Range(0, 4).Select(i => $"d{i}{j}").ToArray());
                for (int k = 0; k < 6; k++) w.Line($"{V}<float> t{k}{j} = {t[k]};");
            }
            w.Line("// A along every row, stored at G'[6k + l]");
            for (int k = 0; k < 6; k++)
            {
                string[] r = GradientTransform(Enumerable.Range(0, 4).Select(j => $"t{k}{j}").ToArray());
                for (int l = 0; l < 6; l++) w.Line($"({r[l]}).StoreUnsafe(ref gt, {(6 * k + l) * MT});");
            }
            w.Close();
        }

        /// <summary>The first tile of a group of 4: the last group of a row starts 4 before the row's end (overlapping the
        /// group before) when the row's tile count is not a multiple of 4.</summary>
        private static string FirstTile(int tilesPerRow, int group) => tilesPerRow % group == 0 ? "int t0 = tw;" : $"int t0 = Math.Min(tw, {tilesPerRow - group});";

        /// <summary>Tiles the transforms take at once, side by side in one vector: 8 (Vector256) on the AVX2 and AVX-512 sets
        /// when a row has 8 or more tiles (maps of 29 columns and more: ResNet's 56 x 56 stage has 14), halving their
        /// instructions there; else 4 (Vector128; a 13-pixel map has four tiles per row).</summary>
        private static int TileGroup(IsaTarget isa, int tilesPerRow) => isa.Width >= 8 && tilesPerRow >= 8 ? 8 : 4;

        /// <summary>One input row into the phase layout: source column w goes to padded column w + 1, i.e. phase (w + 1) % 4,
        /// index (w + 1) / 4. Inside the row 16 columns at a time: four loads and a 4 x 4 transpose give four phases x four
        /// indices.</summary>
        private static void EmitPhases(CodeWriter w, int W, int QW)
        {
            int vecEnd = 3 + (W - 3) / 16 * 16;
            w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
            w.Open("static void Phases(ref float src, ref float dst)");
            w.Line("int w = 0;");
            if (vecEnd > 3)
            {
                w.Open("if (System.Runtime.Intrinsics.X86.Sse.IsSupported)");
                w.Line("for (int i = 0; i < 3; i++) Unsafe.Add(ref dst, (i + 1) * " + QW + ") = Unsafe.Add(ref src, i); // padded columns 1..3: index 0");
                w.Open($"for (w = 3; w < {vecEnd}; w += 16)");
                w.Line("int q = (w + 1) >> 2;");
                w.Line("Vector128<float> a0 = Vector128.LoadUnsafe(ref src, (nuint)w), a1 = Vector128.LoadUnsafe(ref src, (nuint)(w + 4));");
                w.Line("Vector128<float> a2 = Vector128.LoadUnsafe(ref src, (nuint)(w + 8)), a3 = Vector128.LoadUnsafe(ref src, (nuint)(w + 12));");
                Transpose4(w, new[] { "a0", "a1", "a2", "a3" }, new[] { "p0", "p1", "p2", "p3" });
                for (int p = 0; p < 4; p++)
                    w.Line($"p{p}.StoreUnsafe(ref dst, (nuint)({(p == 0 ? "" : $"{p * QW} + ")}q));");
                w.Close();
                w.Close();
            }
            else if (W <= 15)
            {
                // a narrow map (13-15 columns, too short for the loop above): padded columns 0..15 are the whole row and its
                // zero padding, built as four vectors from the row's elements (none read past the row), then one transpose
                w.Open("if (System.Runtime.Intrinsics.X86.Sse.IsSupported)");
                string E(int pc) => pc >= 1 && pc <= W ? $"Unsafe.Add(ref src, {pc - 1})" : "0f";
                for (int v = 0; v < 4; v++)
                {
                    int c0 = 4 * v;
                    bool inside = c0 >= 1 && c0 + 3 <= W;
                    w.Line(inside
                        ? $"Vector128<float> a{v} = Vector128.LoadUnsafe(ref src, {c0 - 1}); // padded columns {c0}..{c0 + 3}"
                        : $"Vector128<float> a{v} = Vector128.Create({E(c0)}, {E(c0 + 1)}, {E(c0 + 2)}, {E(c0 + 3)}); // padded columns {c0}..{c0 + 3}");
                }
                Transpose4(w, new[] { "a0", "a1", "a2", "a3" }, new[] { "p0", "p1", "p2", "p3" });
                for (int p = 0; p < 4; p++) w.Line($"p{p}.StoreUnsafe(ref dst{(p == 0 ? "" : $", {p * QW}")}); // phase {p}, indices 0..3");
                w.Line("return;");
                w.Close();
            }
            w.Line($"for (; w < {W}; w++) Unsafe.Add(ref dst, ((w + 1) & 3) * {QW} + ((w + 1) >> 2)) = Unsafe.Add(ref src, w);");
            w.Close();
        }

        /// <summary>4 x 4 transpose of Vector128 rows (SSE; callers check Sse.IsSupported): out[j][i] = in[i][j].</summary>
        private static void Transpose4(CodeWriter w, string[] a, string[] o)
        {
            const string S = "System.Runtime.Intrinsics.X86.Sse";
            string u = o[0] + "_";
            w.Line($"Vector128<float> {u}0 = {S}.UnpackLow({a[0]}, {a[1]}), {u}1 = {S}.UnpackLow({a[2]}, {a[3]}), {u}2 = {S}.UnpackHigh({a[0]}, {a[1]}), {u}3 = {S}.UnpackHigh({a[2]}, {a[3]});");
            w.Line($"Vector128<float> {o[0]} = {S}.MoveLowToHigh({u}0, {u}1), {o[1]} = {S}.MoveHighToLow({u}1, {u}0), {o[2]} = {S}.MoveLowToHigh({u}2, {u}3), {o[3]} = {S}.MoveHighToLow({u}3, {u}2);");
        }

        /// <summary>B^T d for one column d0..d5 of a tile (points 0, +-1, +-2): the rows of the input transform.</summary>
        private static string[] InputTransform(string[] d) => new[]
        {
            $"{d[0]} * 4f - {d[2]} * 5f + {d[4]}",
            $"{d[3]} + {d[4]} - ({d[1]} + {d[2]}) * 4f",
            $"{d[4]} - {d[3]} + ({d[1]} - {d[2]}) * 4f",
            $"{d[4]} - {d[2]} + ({d[3]} - {d[1]}) * 2f",
            $"{d[4]} - {d[2]} - ({d[3]} - {d[1]}) * 2f",
            $"{d[1]} * 4f - {d[3]} * 5f + {d[5]}",
        };

        /// <summary>A^T m for one column m0..m5: the rows of the output transform.</summary>
        private static string[] OutputTransform(string[] m) => new[]
        {
            $"{m[0]} + {m[1]} + {m[2]} + {m[3]} + {m[4]}",
            $"{m[1]} - {m[2]} + ({m[3]} - {m[4]}) * 2f",
            $"{m[1]} + {m[2]} + ({m[3]} + {m[4]}) * 4f",
            $"{m[1]} - {m[2]} + ({m[3]} - {m[4]}) * 8f + {m[5]}",
        };

        /// <summary>V[xi][c][t..t+TG-1] = (B^T d B)[xi] for TG (4 or 8) neighbouring tiles: d at padded row 0 of the tile row, phase
        /// index t (tile t starts at padded column 4t: phase 0, index t); vt at V[0][c][t].</summary>
        private static void EmitInputTiles(CodeWriter w, int QW, long CT, int TG)
        {
            string V = TG == 8 ? "Vector256" : "Vector128";
            w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
            w.Open("static void InputTiles(ref float d, ref float vt)");
            for (int j = 0; j < 6; j++)
            {
                w.Line($"// column {j} of the tiles: phase {j & 3}{(j >= 4 ? ", next index" : "")}; B^T down the column");
                var loads = Enumerable.Range(0, 6).Select(i => $"{V}.LoadUnsafe(ref d, {i * 4 * QW + (j & 3) * QW + (j >> 2)})").ToArray();
                for (int i = 0; i < 6; i++) w.Line($"{V}<float> d{i}{j} = {loads[i]};");
                string[] t = InputTransform(Enumerable.Range(0, 6).Select(i => $"d{i}{j}").ToArray());
                for (int k = 0; k < 6; k++) w.Line($"{V}<float> t{k}{j} = {t[k]};");
            }
            w.Line("// B^T along every row, stored at V[6k + l]");
            for (int k = 0; k < 6; k++)
            {
                string[] r = InputTransform(Enumerable.Range(0, 6).Select(j => $"t{k}{j}").ToArray());
                for (int l = 0; l < 6; l++) w.Line($"({r[l]}).StoreUnsafe(ref vt, {(6 * k + l) * CT});");
            }
            w.Close();
        }

        /// <summary>The 4 x 4 outputs of TG (4 or 8) neighbouring tiles from M[xi][m][t..t+TG-1] (mt at M[0][m][t]) plus b, into
        /// ob[(4i + j) * TG + tile].</summary>
        private static void EmitOutputTiles(CodeWriter w, long MT, int TG)
        {
            string V = TG == 8 ? "Vector256" : "Vector128";
            w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
            w.Open($"static void OutputTiles(ref float mt, ref float ob, {V}<float> b)");
            for (int l = 0; l < 6; l++)
            {
                w.Line($"// column {l}: A^T down the column");
                for (int k = 0; k < 6; k++) w.Line($"{V}<float> m{k}{l} = {V}.LoadUnsafe(ref mt, {(6 * k + l) * MT});");
                string[] s = OutputTransform(Enumerable.Range(0, 6).Select(k => $"m{k}{l}").ToArray());
                for (int i = 0; i < 4; i++) w.Line($"{V}<float> s{i}{l} = {s[i]};");
            }
            w.Line("// A^T along every row, plus the bias");
            for (int i = 0; i < 4; i++)
            {
                string[] o = OutputTransform(Enumerable.Range(0, 6).Select(l => $"s{i}{l}").ToArray());
                for (int j = 0; j < 4; j++) w.Line($"({o[j]} + b).StoreUnsafe(ref ob, {(4 * i + j) * TG});");
            }
            w.Close();
        }

        /// <summary>Writes four tiles' 4 x 4 outputs (ob[(4i + j) * TG + tile], TG tiles per group) at output row oh0, column
        /// ow0: a 4 x 4 transpose per row when all 16 columns and 4 rows are inside the map, else element by element. A group
        /// of 8 tiles is two calls, the second at ob + 4.</summary>
        private static void EmitStoreTiles(CodeWriter w, int H, int W, int TG)
        {
            w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
            w.Open("static void StoreTiles(ref float ob, ref float ym, int oh0, int ow0)");
            w.Open($"if (System.Runtime.Intrinsics.X86.Sse.IsSupported && oh0 + 4 <= {H} && ow0 + 16 <= {W})");
            w.Open("for (int i = 0; i < 4; i++)");
            w.Line($"ref float row = ref Unsafe.Add(ref ym, (oh0 + i) * {W} + ow0);");
            w.Line($"Vector128<float> o0 = Vector128.LoadUnsafe(ref ob, (nuint)({4 * TG} * i)), o1 = Vector128.LoadUnsafe(ref ob, (nuint)({4 * TG} * i + {TG}));");
            w.Line($"Vector128<float> o2 = Vector128.LoadUnsafe(ref ob, (nuint)({4 * TG} * i + {2 * TG})), o3 = Vector128.LoadUnsafe(ref ob, (nuint)({4 * TG} * i + {3 * TG}));");
            Transpose4(w, new[] { "o0", "o1", "o2", "o3" }, new[] { "q0", "q1", "q2", "q3" });
            w.Line("q0.StoreUnsafe(ref row); q1.StoreUnsafe(ref row, 4); q2.StoreUnsafe(ref row, 8); q3.StoreUnsafe(ref row, 12);");
            w.Close();
            w.Line("return;");
            w.Close();
            w.Open($"for (int i = 0; i < 4 && oh0 + i < {H}; i++)");
            w.Line($"ref float row = ref Unsafe.Add(ref ym, (oh0 + i) * {W});");
            w.Line($"for (int q = 0; q < 4; q++) for (int j = 0; j < 4; j++) {{ int ow = ow0 + 4 * q + j; if (ow < {W}) Unsafe.Add(ref row, ow) = Unsafe.Add(ref ob, (4 * i + j) * {TG} + q); }}");
            w.Close();
            w.Close();
        }
    }
}
