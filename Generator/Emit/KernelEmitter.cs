// Emits one kernel method per distinct layer shape (layers with identical shapes share it) and per ISA where the
// kernel is vectorised. Every size is a literal; kernels take refs into the network's arenas and the batch size.
// Conv: im2col (skipped for small 1x1/stride 1/no padding inputs) + the packed, register-blocked GEMMs of
// GemmEmitter, in blocks of output pixels when the column matrix would not fit in L2 (PixelBlock).
// Forward  y = W * col + b;  backward-weights dW += dy * col^T (col packed transposed);  backward-data dcol = W^T * dy,
// then col2im.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Plan;

namespace CnnGen.Generator.Emit
{
    internal sealed partial class KernelEmitter
    {
        private sealed class Kernel
        {
            public Kernel(string name, string description, System.Action<CodeWriter> body)
            {
                Name = name; Description = description; Body = body;
            }
            public string Name { get; }
            public string Description { get; }
            public System.Action<CodeWriter> Body { get; }
            public List<string> Users { get; } = new();
        }

        private readonly Dictionary<string, Kernel> _kernels = new();
        private readonly List<string> _order = new();

        private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        private static string Chw(Shape s) => s.IsVector ? I(s.C) : $"{s.C}x{s.H}x{s.W}";

        /// <summary>Registers a kernel (once per name) and records the layer that uses it.</summary>
        private string Use(string name, string user, string description, System.Action<CodeWriter> body)
        {
            if (!_kernels.TryGetValue(name, out Kernel? k))
            {
                k = new Kernel(name, description, body);
                _kernels.Add(name, k);
                _order.Add(name);
            }
            if (!k.Users.Contains(user)) k.Users.Add(user);
            return name;
        }

        public void WriteAll(CodeWriter w)
        {
            for (int i = 0; i < _order.Count; i++)
            {
                Kernel k = _kernels[_order[i]];
                if (i > 0) w.Line();
                w.Line($"/// <summary>{k.Description}</summary>");
                w.Line($"/// <remarks>Used by {string.Join(", ", k.Users)}.</remarks>");
                // fully optimised from the first call: no tier-0 or on-stack-replacement code in the first steps of a run
                w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
                k.Body(w);
            }
        }

        // ---------------------------------------------------------------- convolution

        public static string ConvName(CheckedLayer l) =>
            $"Conv{l.Kernel}x{l.Kernel}S{l.Stride}P{l.Padding}{(l.Groups > 1 ? "G" + l.Groups : "")}_{Chw(l.Input)}To{l.Output.C}{(l.Bias ? "" : "NoBias")}";

        private static string ConvDescription(CheckedLayer l) =>
            $"Conv2D {Chw(l.Input)} -> {Chw(l.Output)} (C x H x W per image), kernel {l.Kernel}x{l.Kernel}, stride {l.Stride}, padding {l.Padding}, " +
            $"groups {l.Groups}{(l.Bias ? "" : ", no bias")}. GEMM per image and group: [{l.Output.C / l.Groups} x {l.Input.C / l.Groups * l.Kernel * l.Kernel}] * " +
            $"[{l.Input.C / l.Groups * l.Kernel * l.Kernel} x {l.Output.H * l.Output.W}]{(MemoryPlanner.IsDirectConv(l) ? " read directly from the input (1x1, no im2col)" : " from im2col")}.";


        /// <summary>Output pixels per im2col block (<see cref="MemoryPlanner.PixelBlock"/>).</summary>
        public static int PixelBlock(CheckedLayer l) => MemoryPlanner.PixelBlock(l);

        /// <summary>Emits the loop over pixel blocks [p0, p0 + count) (or constants for one block); <paramref name="body"/>
        /// gets the block width as a constant: NB, or the last block's.</summary>
        private static void PixelBlocks(CodeWriter w, int N, int NB, bool im2col, System.Action<int, string> body, string? begin = null, string? end = null)
        {
            if (NB >= N)
            {
                w.Open("");
                w.Line("const int p0 = 0;");
                if (im2col) w.Line($"const int count = {N};");
                body(N, "");
                w.Close();
                return;
            }
            int last = N - (N - 1) / NB * NB;
            w.Open($"for (int p0 = {begin ?? "0"}; p0 < {end ?? I(N)}; p0 += {NB})");
            w.Line($"int count = Math.Min({NB}, {N} - p0);");
            if (last == NB) body(NB, "");
            else
            {
                w.Open($"if (count == {NB})");
                body(NB, "");
                w.Close();
                w.Open("else");
                body(last, "Last");
                w.Close();
            }
            w.Close();
        }

        /// <summary>Emits the walk over the output-row pieces of pixels [p0, p0 + count): per piece <c>oh</c>, <c>ow0</c>,
        /// <c>len</c> and <c>ih</c>, and <c>from</c>/<c>to</c>: the piece's columns whose input column is inside the image.</summary>
        private static void OpenPieces(CodeWriter w, int K, int S, int P, int W, int OW)
        {
            if (P == 0 && (OW - 1) * S + K - 1 < W) { w.Line("const int lo = 0;"); w.Line($"const int hi = {OW};"); }
            else if (S == 1)
            {
                w.Line($"int lo = Math.Max(0, {P} - kw);");
                w.Line($"int hi = Math.Max(lo, Math.Min({OW}, {W + P} - kw));");
            }
            else
            {
                w.Line($"int lo = Math.Max(0, ({P + S - 1} - kw) / {S});");
                w.Line($"int hi = Math.Max(lo, Math.Min({OW}, ({W - 1 + P + S} - kw) / {S}));");
            }
            OpenPieceLoop(w, S, P, OW);
        }

        /// <summary>The loop of <see cref="OpenPieces"/> without the column range: per output-row piece of pixels
        /// [p0, p0 + count), <c>oh</c>, <c>ow0</c>, <c>len</c>, <c>at</c> (offset in the block) and <c>ih</c>.</summary>
        private static void OpenPieceLoop(CodeWriter w, int S, int P, int OW)
        {
            w.Open("for (int n = p0; n < p0 + count;)");
            w.Line($"int oh = n / {OW}, ow0 = n - oh * {OW}, len = Math.Min({OW} - ow0, p0 + count - n);");
            w.Line("int at = n - p0;");
            w.Line("n += len;");
            w.Line($"int ih = oh * {S} - {P} + kh;");
        }

        /// <param name="rowStride">Row stride of the column matrix: the pixel block (default), or an image group's columns.</param>
        public string ConvIm2Col(CheckedLayer l, int rowStride = 0)
        {
            int NB = rowStride > 0 ? rowStride : PixelBlock(l);
            string name = ConvName(l) + "_Im2Col" + (rowStride > 0 ? $"Stride{rowStride}" : "");
            int K = l.Kernel, S = l.Stride, P = l.Padding, H = l.Input.H, W = l.Input.W, OW = l.Output.W;
            bool wholeRows = (S == 1 && OW <= 64) || S == 2; // (stride-1 row moves are unrolled: bounded code size)
            return Use(name, l.Name, $"im2col for {ConvName(l)}, pixels [p0, p0 + count): col[c*{K * K} + kh*{K} + kw][n - p0] = x[c][oh*{S} - {P} + kh][ow*{S} - {P} + kw] (n = oh*{OW} + ow; row stride {NB}), zero outside.", w =>
            {
                w.Open($"private static void {name}(ref float x, ref float col, int p0, int count)");
                if (wholeRows)
                {
                    OpenRowDispatch(w, OW, "moves", c => $"ref x, ref {c}");
                    EmitIm2ColRows(w, l, NB);
                    w.Line();
                    w.Line("// the general walk over row pieces");
                    w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
                    w.Open("static void Pieces(ref float x, ref float col, int p0, int count)");
                }
                w.Open($"for (int c = 0; c < {l.Input.C}; c++)");
                w.Open($"for (int kh = 0; kh < {K}; kh++)");
                w.Open($"for (int kw = 0; kw < {K}; kw++)");
                w.Line($"ref float dst = ref Unsafe.Add(ref col, ((c * {K} + kh) * {K} + kw) * {NB});");
                OpenPieces(w, K, S, P, W, OW);
                w.Line("Span<float> row = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref dst, at), len);");
                w.Line("int from = Math.Max(lo, ow0) - ow0, to = Math.Min(hi, ow0 + len) - ow0;");
                w.Open($"if ((uint)ih >= {H}u || to <= from)");
                w.Line("row.Clear();");
                w.Line("continue;");
                w.Close();
                w.Line("ref float rw = ref Unsafe.Add(ref MemoryMarshal.GetReference(row), from);");
                w.Line("for (int i = -from; i < 0; i++) Unsafe.Add(ref rw, i) = 0f;");
                w.Line($"ref float src = ref Unsafe.Add(ref x, (c * {H} + ih) * {W} + {(S == 1 ? "ow0 + from" : $"(ow0 + from) * {S}")} + kw - {P}); // input of column from");
                if (S == 1)
                {
                    w.Line("int cnt = to - from;");
                    w.Open("if (Vector256.IsHardwareAccelerated && cnt >= 8)");
                    w.Line("// whole vectors, the last one overlapping: no call for the short rows of small maps");
                    w.Line("for (int i = 0; i + 8 <= cnt; i += 8) Vector256.LoadUnsafe(ref src, (nuint)i).StoreUnsafe(ref rw, (nuint)i);");
                    w.Line("Vector256.LoadUnsafe(ref src, (nuint)(cnt - 8)).StoreUnsafe(ref rw, (nuint)(cnt - 8));");
                    w.Close();
                    w.Line("else MemoryMarshal.CreateReadOnlySpan(ref src, cnt).CopyTo(row.Slice(from));");
                }
                else
                {
                    w.Line("int q = 0;");
                    if (S == 2)
                    {
                        w.Open("if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)");
                        w.Line("// 8 outputs from 16 inputs: the even lanes of two vectors (stops one vector early, so the 16th load stays inside the row)");
                        w.Line("Vector256<int> even = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);");
                        w.Open("for (; q + 8 < to - from; q += 8)");
                        w.Line("ref float s0 = ref Unsafe.Add(ref src, q * 2);");
                        w.Line("Vector256<float> va = System.Runtime.Intrinsics.X86.Avx2.PermuteVar8x32(Vector256.LoadUnsafe(ref s0), even);");
                        w.Line("Vector256<float> vb = System.Runtime.Intrinsics.X86.Avx2.PermuteVar8x32(Vector256.LoadUnsafe(ref s0, 8), even);");
                        w.Line("Vector256.Create(va.GetLower(), vb.GetLower()).StoreUnsafe(ref rw, (nuint)q);");
                        w.Close();
                        w.Close();
                    }
                    w.Line($"for (; q < to - from; q++) Unsafe.Add(ref rw, q) = Unsafe.Add(ref src, q * {S});");
                }
                w.Line("for (int i = to; i < len; i++) Unsafe.Add(ref MemoryMarshal.GetReference(row), i) = 0f;");
                w.Close().Close().Close().Close().Close();
                if (wholeRows) w.Close();
            });
        }

        /// <summary>The top of an im2col/col2im kernel with a Rows fast path: pixels [p0, p0 + count) are cut into the whole
        /// output rows in the middle (Rows) and the partial rows at either end (Pieces, the general walk).
        /// <paramref name="args"/> gives the call's arguments for a column pointer.</summary>
        private static void OpenRowDispatch(CodeWriter w, int OW, string what, Func<string, string> args)
        {
            w.Line($"// Whole output rows go through Rows (constant margins, unrolled {what}); partial rows at either end through Pieces.");
            w.Line($"int first = Math.Min((p0 + {OW - 1}) / {OW} * {OW}, p0 + count), last = Math.Max(first, (p0 + count) / {OW} * {OW});");
            w.Open("if (last > first)");
            w.Line($"if (first > p0) Pieces({args("col")}, p0, first - p0);");
            w.Line($"Rows({args("Unsafe.Add(ref col, first - p0)")}, first / {OW}, (last - first) / {OW});");
            w.Line($"if (p0 + count > last) Pieces({args("Unsafe.Add(ref col, last - p0)")}, last, p0 + count - last);");
            w.Close();
            w.Line($"else Pieces({args("col")}, p0, count);");
            w.Line();
        }

        /// <summary>For offset kw of the kernel: the output columns [Lo, Hi) whose input column S * ow + kw - P lies inside
        /// the row, and From, the input column of output column Lo.</summary>
        private static (int Lo, int Hi, int From) KernelColumnRange(CheckedLayer l, int kw)
        {
            int S = l.Stride, P = l.Padding, last = l.Input.W - 1 + P - kw; // padded position of the last input column
            int lo = Math.Max(0, (P - kw + S - 1) / S), hi = last < 0 ? lo : Math.Max(lo, Math.Min(l.Output.W, last / S + 1));
            return (lo, hi, S * lo + kw - P);
        }

        /// <summary>Stride 1 or 2, whole output rows [oh0, oh0 + rows) (every row of a small map; the middle of a block of a
        /// large one): for each kw the zero margins and the copy length are constants, so a row is a few straight-line
        /// vector moves instead of the general piece walk (which took ~15% of a conv's forward time).</summary>
        private static void EmitIm2ColRows(CodeWriter w, CheckedLayer l, int NB)
        {
            int K = l.Kernel, S = l.Stride, P = l.Padding, H = l.Input.H, W = l.Input.W, OW = l.Output.W;
            w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
            w.Open("static void Rows(ref float x, ref float col, int oh0, int rows)");
            w.Open($"for (int c = 0; c < {l.Input.C}; c++)");
            w.Open($"for (int kh = 0; kh < {K}; kh++)");
            w.Line($"ref float dst = ref Unsafe.Add(ref col, (c * {K} + kh) * {K * NB});");
            w.Open("for (int r = 0; r < rows; r++)");
            w.Line($"int ih = (oh0 + r){(S == 1 ? "" : $" * {S}")} - {P} + kh;");
            w.Line($"ref float d = ref Unsafe.Add(ref dst, r * {OW});");
            w.Open($"if ((uint)ih >= {H}u)");
            w.Line($"for (int kw = 0; kw < {K}; kw++) MemoryMarshal.CreateSpan(ref Unsafe.Add(ref d, kw * {NB}), {OW}).Clear();");
            w.Line("continue;");
            w.Close();
            w.Line($"ref float s = ref Unsafe.Add(ref x, (c * {H} + ih) * {W});");
            for (int kw = 0; kw < K; kw++)
            {
                (int lo, int hi, int from) = KernelColumnRange(l, kw);
                int len = hi - lo;
                string dk = kw == 0 ? "d" : $"dk{kw}";
                if (kw > 0) w.Line($"ref float {dk} = ref Unsafe.Add(ref d, {kw * NB});");
                w.Line($"// kw = {kw}: columns [{lo}, {hi}) from input column {(S == 1 ? "ow" : $"{S} * ow")} {(kw - P >= 0 ? "+ " + (kw - P) : "- " + (P - kw))}, zeros outside");
                if (lo > 0) w.Line(lo <= 4 ? string.Concat(Enumerable.Range(0, lo).Select(q => $"Unsafe.Add(ref {dk}, {q}) = 0f; ")).TrimEnd() : $"MemoryMarshal.CreateSpan(ref {dk}, {lo}).Clear();");
                if (S == 1 && len >= 4)
                {
                    for (int q = 0; q + 4 <= len; q += 4)
                        w.Line($"Vector128.LoadUnsafe(ref s, {from + q}).StoreUnsafe(ref {dk}, {lo + q});");
                    if (len % 4 != 0) w.Line($"Vector128.LoadUnsafe(ref s, {from + len - 4}).StoreUnsafe(ref {dk}, {lo + len - 4}); // last 4, overlapping");
                }
                else if (S == 1)
                    for (int q = 0; q < len; q++) w.Line($"Unsafe.Add(ref {dk}, {lo + q}) = Unsafe.Add(ref s, {from + q});");
                else
                {
                    // stride 2: the even lanes of two loads, while both stay inside the input row; the rest one by one
                    int qmax = W - 8 - from < 0 ? -1 : (W - 8 - from) / 2, vecEnd = qmax < 0 ? 0 : Math.Min(len / 4 * 4, qmax / 4 * 4 + 4);
                    int qmax16 = W - 32 - from < 0 ? -1 : (W - 32 - from) / 2, vec16End = qmax16 < 0 ? 0 : Math.Min(len / 16 * 16, qmax16 / 16 * 16 + 16);
                    w.Open("");
                    w.Line("int q = 0;");
                    if (vec16End > 0)
                    {
                        // AVX-512: 16 outputs from 32 inputs, the even lanes of two vectors in one two-source permute
                        const string X = "System.Runtime.Intrinsics.X86.Avx512F";
                        w.Open($"if ({X}.IsSupported)");
                        w.Line("Vector512<int> even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);");
                        w.Line($"for (; q < {vec16End}; q += 16) {X}.PermuteVar16x32x2(Vector512.LoadUnsafe(ref s, (nuint)({from} + 2 * q)), even, Vector512.LoadUnsafe(ref s, (nuint)({from + 16} + 2 * q))).StoreUnsafe(ref {dk}, (nuint)({lo} + q));");
                        w.Close();
                    }
                    if (vecEnd > 0)
                    {
                        w.Open("if (System.Runtime.Intrinsics.X86.Sse.IsSupported)");
                        w.Line($"for (; q < {vecEnd}; q += 4) System.Runtime.Intrinsics.X86.Sse.Shuffle(Vector128.LoadUnsafe(ref s, (nuint)({from} + 2 * q)), Vector128.LoadUnsafe(ref s, (nuint)({from + 4} + 2 * q)), 0x88).StoreUnsafe(ref {dk}, (nuint)({lo} + q));");
                        w.Close();
                    }
                    w.Line($"for (; q < {len}; q++) Unsafe.Add(ref {dk}, {lo} + q) = Unsafe.Add(ref s, {from} + 2 * q);");
                    w.Close();
                }
                if (hi < OW) w.Line(OW - hi <= 4 ? string.Concat(Enumerable.Range(hi, OW - hi).Select(q => $"Unsafe.Add(ref {dk}, {q}) = 0f; ")).TrimEnd() : $"MemoryMarshal.CreateSpan(ref Unsafe.Add(ref {dk}, {hi}), {OW - hi}).Clear();");
            }
            w.Close().Close().Close().Close();
        }

        /// <summary>The shifted input planes of an implicit-im2col weight gradient (MemoryPlanner.IsShiftedPlaneWeightGradient):
        /// K copies of each input plane, one per kernel column kw, padded with zero rows so that every tap of an output pixel
        /// is the pixel's index plus a constant, and with zeros in the columns that tap kw reaches only across a row's end.</summary>
        public string ConvShiftedPlanes(CheckedLayer l, IsaTarget isa)
        {
            string name = ConvName(l) + "_ShiftedPlanes_" + isa.Name;
            int K = l.Kernel, P = l.Padding, H = l.Input.H, W = l.Input.W, C = l.Input.C, HW = H * W, V = isa.Width;
            int PS = MemoryPlanner.ShiftedPlaneLength(l), top = P + P * W, tail = top + HW;
            return Use(name, l.Name, $"Shifted input planes for {ConvName(l)}'s weight gradient: planes[(kw * {C} + c) * {PS} + {P} + r * {W} + col] = x[c][r - {P}][col] (zero outside the image), so column (c, kh, kw) of output pixel t is planes[(kw * {C} + c) * {PS} + kh * {W} + kw + t]; copy kw also zeroes the columns its tap (kw - {P} columns to the side) reads only from a neighbouring row.", w =>
            {
                w.Line("// channels [cBegin, cEnd)");
                w.Open($"private static void {name}(ref float x, ref float planes, int cBegin, int cEnd)");
                w.Open("for (int c = cBegin; c < cEnd; c++)");
                w.Line($"ref float src = ref Unsafe.Add(ref x, c * {HW});");
                for (int kw = 0; kw < K; kw++)
                    w.Line($"ref float p{kw} = ref Unsafe.Add(ref planes, {(kw == 0 ? "" : $"{kw * C} * {PS} + ")}c * {PS});");
                // zeros first (whole vectors, which may reach into the image's rows), then the image over them
                var zeros = new System.Collections.Generic.List<int>();
                for (int at = 0; at < top; at += V) zeros.Add(at);
                for (int at = PS - V; at + V > tail; at -= V) zeros.Add(at);
                w.Line($"// padding rows above and below (and the floats the taps reach past them): {zeros.Count} zero vector{(zeros.Count == 1 ? "" : "s")} per copy, the image's rows then written over their overlap");
                foreach (int at in zeros)
                    w.Line(string.Join(" ", Enumerable.Range(0, K).Select(kw => $"{isa.V}.Zero.StoreUnsafe(ref p{kw}{(at == 0 ? "" : $", {at}")});")));
                w.Line("// the image's rows, one load for all copies; the last vector overlaps the one before");
                w.Open($"for (nuint i = 0; i + {V} <= {HW}; i += {V})");
                w.Line($"{isa.V} v = {isa.Vec}.LoadUnsafe(ref src, i);");
                w.Line(string.Join(" ", Enumerable.Range(0, K).Select(kw => $"v.StoreUnsafe(ref p{kw}, {top} + i);")));
                w.Close();
                if (HW % V != 0)
                {
                    w.Line($"{isa.V} last = {isa.Vec}.LoadUnsafe(ref src, {HW - V});");
                    w.Line(string.Join(" ", Enumerable.Range(0, K).Select(kw => $"last.StoreUnsafe(ref p{kw}, {tail - V});")));
                }
                for (int kw = 0; kw < K; kw++)
                {
                    int d = kw - P;
                    if (d == 0) continue;
                    w.Line($"// kw = {kw} reads {Math.Abs(d)} column{(Math.Abs(d) == 1 ? "" : "s")} to the {(d < 0 ? "left" : "right")}: zero the {(d < 0 ? "last" : "first")} {(Math.Abs(d) == 1 ? "column" : $"{Math.Abs(d)} columns")}, which it reaches only from the row {(d < 0 ? "below's start" : "above's end")}");
                    int first = d < 0 ? top + W + d : top;
                    string stores = string.Join(" ", Enumerable.Range(0, Math.Abs(d)).Select(q => $"Unsafe.Add(ref p{kw}, {first + q} + r * {W}) = 0f;"));
                    w.Line($"for (int r = 0; r < {H}; r++) {(Math.Abs(d) == 1 ? stores : $"{{ {stores} }}")}");
                }
                w.Close();
                w.Close();
            });
        }

        /// <summary>The weight gradient of a stride-1 "same" conv from its input in channels-last layout
        /// (MemoryPlanner.IsChannelsLastWeightGradient): per image, the input is transposed into a zero-padded
        /// (H + K - 1) x (W + K - 1) x Cin copy, in which the K x Cin taps of kernel row kh for output pixel t are
        /// contiguous. The GEMM dW'[m][kh][kw, c] = sum_t dy[m][t] * x'[t + kh rows][kw, c] then reads B in place (no
        /// packing): register tiles broadcast dy and load whole vectors of the window rows, summing over every pixel of
        /// every image of the batch into dW' (columns in (kh, kw, c) order), which is added to dW (c, kh, kw) at the end.</summary>
        public string ConvChannelsLastWeightGradient(CheckedLayer l, IsaTarget isa)
        {
            string name = ConvName(l) + "_WeightGradient_" + isa.Name;
            int K = l.Kernel, P = l.Padding, H = l.Input.H, W = l.Input.W, C = l.Input.C, M = l.Output.C, HW = H * W;
            int Wp = W + K - 1, RS = Wp * C, R = MemoryPlanner.ChannelsLastRowLength(l), LD = K * R, KK = K * K;
            long XH = MemoryPlanner.ChannelsLastImageLength(l), inSize = l.Input.Size, outSize = l.Output.Size;
            int V = isa.Width, VR = R / V, F = K * VR; // vectors per kernel row, and in all K rows
            int TV = V == 16 ? 3 : 2, TR = GemmEmitter.TileRows(isa); // tile: TR rows x TV vectors (AVX-512: 24 of 32 registers; else 12 of 16)
            string description = $"Weight gradient of Conv2D {Chw(l.Input)} -> {Chw(l.Output)} (C x H x W per image), kernel {K}x{K}, stride 1, padding {P}, from the input in channels-last layout: dW'[{M} x {K} x {R}] = sum over images and {HW} pixels t of " +
                $"dy[m][t] * x'[window row kh of t][kw * {C} + c] ({K * C} of {R} lanes used), then dW[m][c][kh][kw] += dW'[m][kh][kw * {C} + c]; row sums of dy into db{(l.Bias ? "" : " (no bias)")}.";
            return Use(name, l.Name, description, w =>
            {
                w.Line($"// ws: the image x' ({XH} floats), then dW' ({M} x {LD})");
                w.Open($"private static void {name}(ref float x, ref float dy, ref float dw, ref float db, ref float ws, int batch)");
                w.Line($"ref float xc = ref ws; // x'[(r * {Wp} + q) * {C} + c] = x[c][r - {P}][q - {P}], zero outside the image");
                w.Line($"ref float dwc = ref Unsafe.Add(ref ws, {XH}); // dW'[m * {LD} + kh * {R} + kw * {C} + c]");
                w.Line($"MemoryMarshal.CreateSpan(ref xc, {XH}).Clear(); // the padding stays zero: every image writes the interior only");
                w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
                w.Line($"static nint Lanes(int v) => v / {VR} * {RS} + v % {VR} * {V}; // vector v of the {F} ({K} kernel rows of {VR}): its offset in x' from pixel t's window");
                w.Open("for (int n = 0; n < batch; n++)");
                w.Line($"ref float xn = ref Unsafe.Add(ref x, n * {inSize});");
                w.Line($"ref float dyn = ref Unsafe.Add(ref dy, n * {outSize});");
                EmitChannelsLastTranspose(w, C, H, W, P, Wp);
                w.Line("bool load = n > 0; // the first image stores dW', the others add to it");
                w.Line($"// dW' in tiles of {TR} output channels x {TV} vectors, each over all {HW} pixels");
                int full = F / TV * TV;
                int[] widths = F > full ? new[] { TV, F - full } : new[] { TV }; // vectors per column tile: full tiles, then the rest
                int[] heights = ChannelsLastTileHeights(M, TR);
                void ColumnTile(int vecs)
                {
                    w.Line(string.Join(" ", Enumerable.Range(0, vecs).Select(i => $"nint o{i} = Lanes(v{(i == 0 ? "" : $" + {i}")});")));
                    ChannelsLastRowTiles(w, M, heights, vecs, LD, HW, V);
                }
                w.Open($"for (int v = 0; v < {full}; v += {TV})");
                ColumnTile(TV);
                w.Close();
                if (F > full)
                {
                    w.Open("");
                    w.Line($"const int v = {full};");
                    ColumnTile(F - full);
                    w.Close();
                }
                if (l.Bias) EmitBiasRowSums(w, isa, "dyn", M, HW);
                w.Close();
                w.Line("if (batch == 0) return;");
                w.Line("// dW[m][c][kh][kw] += dW'[m][kh][kw * C + c]");
                w.Open($"for (int m = 0; m < {M}; m++)");
                w.Line($"ref float d = ref Unsafe.Add(ref dw, m * {C * KK});");
                w.Line($"ref float a = ref Unsafe.Add(ref dwc, m * {LD});");
                w.Open($"for (int c = 0; c < {C}; c++)");
                for (int kh = 0; kh < K; kh++)
                    w.Line(string.Join(" ", Enumerable.Range(0, K).Select(kw => $"Unsafe.Add(ref d, c * {KK} + {kh * K + kw}) += Unsafe.Add(ref a, {kh * R + kw * C} + c);")));
                w.Close().Close();
                // the register tiles, one per (rows, vectors) the loops above call
                foreach (int vecs in widths)
                    foreach (int rows in heights) EmitChannelsLastTile(w, isa, rows, vecs, LD, HW, H, W, RS, C);
                w.Close();
            });
        }

        /// <summary>x (C planes of H x W pixels) to the zero-padded channels-last x', one input row at a time: 8 channels x 8
        /// pixels per AVX register transpose, the last block of a row and of the channels overlapping the one before (writing
        /// the same values again). Without AVX, or with fewer than 8 channels or columns, one float at a time.</summary>
        private static void EmitChannelsLastTranspose(CodeWriter w, int C, int H, int W, int P, int Wp)
        {
            const string X86 = "System.Runtime.Intrinsics.X86.Avx";
            int HW = H * W;
            w.Line("// x -> x': 8 channels x 8 pixels of a row per register transpose");
            if (C >= 8 && W >= 8)
            {
                w.Open($"if ({X86}.IsSupported)");
                w.Open($"for (int c0 = 0; c0 < {C}; c0 += 8)");
                w.Line($"int c = Math.Min(c0, {C - 8});");
                w.Line($"ref float s = ref Unsafe.Add(ref xn, c * {HW});");
                w.Open($"for (int r = 0; r < {H}; r++)");
                w.Line($"ref float d = ref Unsafe.Add(ref xc, (r * {Wp} + {P * Wp + P}) * {C} + c); // pixel (r, 0)'s channel c in x'");
                w.Open($"for (int q0 = 0; q0 < {W}; q0 += 8)");
                w.Line($"int q = Math.Min(q0, {W - 8}), at = r * {W} + q;");
                GemmEmitter.EmitTranspose8x8(w,
                    i => $"Vector256.LoadUnsafe(ref s, (nuint)({(i == 0 ? "" : $"{i * HW} + ")}at))",
                    $"ref float dq = ref Unsafe.Add(ref d, q * {C}); // pixel q + i's 8 channels",
                    (i, column) => $"{column}.StoreUnsafe(ref dq{(i == 0 ? "" : $", {i * C}")});");
                w.Close().Close().Close();
                w.Close();
                w.Open("else");
            }
            else w.Open("");
            w.Line($"for (int c = 0; c < {C}; c++) for (int r = 0; r < {H}; r++) for (int q = 0; q < {W}; q++) Unsafe.Add(ref xc, (r * {Wp} + q + {P * Wp + P}) * {C} + c) = Unsafe.Add(ref xn, c * {HW} + r * {W} + q);");
            w.Close();
        }

        /// <summary>Output channels per register tile of the channels-last weight gradient: the full tile height (or all of
        /// <paramref name="M"/> when fewer), then the remainder if any.</summary>
        private static int[] ChannelsLastTileHeights(int M, int TR) =>
            M > TR && M % TR != 0 ? new[] { TR, M % TR } : new[] { Math.Min(TR, M) };

        /// <summary>Calls the tiles of one column tile (vectors v.. at offsets o0..) for every output channel: tiles of the
        /// first height while they fit, then one of the remainder's.</summary>
        private static void ChannelsLastRowTiles(CodeWriter w, int M, int[] heights, int vecs, int LD, int HW, int V)
        {
            string Call(int r) => $"Tile{r}x{vecs}(ref Unsafe.Add(ref dyn, m * {HW}), ref xc, {string.Join(", ", Enumerable.Range(0, vecs).Select(i => $"o{i}"))}, ref Unsafe.Add(ref dwc, m * {LD} + v * {V}), load);";
            w.Line("int m = 0;");
            w.Line($"for (; m + {heights[0]} <= {M}; m += {heights[0]}) {Call(heights[0])}");
            if (heights.Length > 1) w.Line(Call(heights[1]));
        }

        /// <summary>A register tile of the channels-last weight gradient: <paramref name="rows"/> output channels x
        /// <paramref name="vecs"/> vectors of dW', summed over every pixel t: a broadcast of dy[m][t] per row, the vectors
        /// loaded from x' at t's window (pixel stride Cin, padded row stride) plus their offsets o0...</summary>
        private static void EmitChannelsLastTile(CodeWriter w, IsaTarget isa, int rows, int vecs, int LD, int HW, int H, int W, int RS, int C)
        {
            string Vec = isa.Vec, Vt = isa.V;
            var acc = (from i in Enumerable.Range(0, rows) from v in Enumerable.Range(0, vecs) select (i, v)).ToArray();
            string A(int i, int v) => $"c{i}{v}";
            string Off(int i, int v) => (i * LD + v * isa.Width) == 0 ? "" : $", {i * LD + v * isa.Width}";
            w.Line($"// {rows} output channels x {vecs * isa.Width} columns of dW' in {rows * vecs} registers; a: dy[m][0], b: x', o: the vectors' offsets from a window, c: dW'[m][v * {isa.Width}]");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
            w.Open($"static void Tile{rows}x{vecs}(ref float a, ref float b, {string.Join(", ", Enumerable.Range(0, vecs).Select(v => $"nint o{v}"))}, ref float c, bool load)");
            w.Line($"{Vt} {string.Join(", ", acc.Select(p => A(p.i, p.v)))};");
            w.Open("if (load)");
            foreach (var (i, v) in acc) w.Line($"{A(i, v)} = {Vec}.LoadUnsafe(ref c{Off(i, v)});");
            w.Close();
            w.Open("else");
            foreach (var (i, v) in acc) w.Line($"{A(i, v)} = {Vt}.Zero;");
            w.Close();
            w.Open($"for (int r = 0; r < {H}; r++)");
            w.Line($"ref float br = ref Unsafe.Add(ref b, r * {RS}); // output row r's windows start at x' row r");
            w.Line($"ref float ar = ref Unsafe.Add(ref a, r * {W});");
            w.Open($"for (int q = 0; q < {W}; q++)");
            w.Line($"ref float bq = ref Unsafe.Add(ref br, q * {C});");
            for (int v = 0; v < vecs; v++) w.Line($"{Vt} b{v} = {Vec}.LoadUnsafe(ref bq, (nuint)o{v});");
            for (int i = 0; i < rows; i++)
            {
                w.Line($"{(i == 0 ? $"{Vt} " : "")}ai = {Vec}.Create(Unsafe.Add(ref ar, q{(i == 0 ? "" : $" + {i * HW}")}));");
                w.Line(string.Join(" ", Enumerable.Range(0, vecs).Select(v => $"{A(i, v)} = {Vec}.MultiplyAddEstimate(ai, b{v}, {A(i, v)});")));
            }
            w.Close().Close();
            foreach (var (i, v) in acc) w.Line($"{A(i, v)}.StoreUnsafe(ref c{Off(i, v)});");
            w.Close();
        }

        public string ConvCol2Im(CheckedLayer l, int rowStride = 0)
        {
            int NB = rowStride > 0 ? rowStride : PixelBlock(l);
            string name = ConvName(l) + "_Col2Im" + (rowStride > 0 ? $"Stride{rowStride}" : "");
            int K = l.Kernel, S = l.Stride, P = l.Padding, H = l.Input.H, W = l.Input.W, OW = l.Output.W;
            return Use(name, l.Name, $"col2im for {ConvName(l)}, pixels [p0, p0 + count) (row stride {NB}): adds each column entry back to the input pixel it was copied from (dx must be zeroed).", w =>
            {
                w.Open($"private static void {name}(ref float col, ref float dx, int p0, int count)");
                bool wholeRows = S == 1 && OW <= 64;
                if (wholeRows)
                {
                    OpenRowDispatch(w, OW, "adds", c => $"ref {c}, ref dx");
                    EmitCol2ImRows(w, l, NB);
                    w.Line();
                    w.Line("// the general walk over row pieces");
                    w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
                    w.Open("static void Pieces(ref float col, ref float dx, int p0, int count)");
                }
                if (S == 2)
                {
                    EmitCol2ImStride2(w, l, NB);
                    w.Close();
                    if (wholeRows) w.Close();
                    return;
                }
                w.Open($"for (int c = 0; c < {l.Input.C}; c++)");
                w.Open($"for (int kh = 0; kh < {K}; kh++)");
                w.Open($"for (int kw = 0; kw < {K}; kw++)");
                w.Line($"ref float src = ref Unsafe.Add(ref col, ((c * {K} + kh) * {K} + kw) * {NB});");
                OpenPieces(w, K, S, P, W, OW);
                w.Line("int from = Math.Max(lo, ow0) - ow0, to = Math.Min(hi, ow0 + len) - ow0;");
                w.Line($"if ((uint)ih >= {H}u || to <= from) continue;");
                w.Line("ref float row = ref Unsafe.Add(ref src, at + from);");
                w.Line($"ref float dst = ref Unsafe.Add(ref dx, (c * {H} + ih) * {W} + {(S == 1 ? "ow0 + from" : $"(ow0 + from) * {S}")} + kw - {P}); // input of column from");
                if (S == 1)
                {
                    w.Line("int cnt = to - from, i = 0;");
                    w.Line("if (Vector256.IsHardwareAccelerated) for (; i + 8 <= cnt; i += 8) (Vector256.LoadUnsafe(ref dst, (nuint)i) + Vector256.LoadUnsafe(ref row, (nuint)i)).StoreUnsafe(ref dst, (nuint)i);");
                    w.Line("for (; i < cnt; i++) Unsafe.Add(ref dst, i) += Unsafe.Add(ref row, i);");
                }
                else w.Line($"for (int i = 0; i < to - from; i++) Unsafe.Add(ref dst, i * {S}) += Unsafe.Add(ref row, i);");
                w.Close().Close().Close().Close().Close();
                if (wholeRows) w.Close();
            });
        }

        /// <summary>Stride-2 col2im: the rows of kernel columns kw and kw + 1 land on alternate input columns, so interleaving
        /// four entries of each (SSE unpack) gives eight consecutive input columns, added with two vector adds instead of
        /// eight strided scalar adds. An odd last kw pairs with zeros; the ends of each row piece stay scalar.</summary>
        private static void EmitCol2ImStride2(CodeWriter w, CheckedLayer l, int NB)
        {
            int K = l.Kernel, P = l.Padding, H = l.Input.H, W = l.Input.W, OW = l.Output.W;
            w.Open($"for (int c = 0; c < {l.Input.C}; c++)");
            w.Open($"for (int kh = 0; kh < {K}; kh++)");
            w.Open($"for (int kw = 0; kw < {K}; kw += 2)");
            w.Line($"ref float src = ref Unsafe.Add(ref col, ((c * {K} + kh) * {K} + kw) * {NB});");
            w.Line($"bool pair = kw + 1 < {K};");
            w.Line("// output columns [lo, hi) of kw land inside the input row, [lo1, hi1) of kw + 1");
            w.Line($"int lo = Math.Max(0, ({P + 1} - kw) / 2), hi = Math.Max(lo, Math.Min({OW}, ({W + 1 + P} - kw) / 2));");
            w.Line($"int lo1 = Math.Max(0, ({P} - kw) / 2), hi1 = Math.Max(lo1, Math.Min({OW}, ({W + P} - kw) / 2));");
            OpenPieceLoop(w, 2, P, OW);
            w.Line($"if ((uint)ih >= {H}u) continue;");
            w.Line("int from = Math.Max(lo, ow0) - ow0, to = Math.Min(hi, ow0 + len) - ow0;");
            w.Line("int from1 = Math.Max(lo1, ow0) - ow0, to1 = Math.Min(hi1, ow0 + len) - ow0;");
            w.Line("ref float row0 = ref Unsafe.Add(ref src, at);");
            w.Line($"ref float row1 = ref Unsafe.Add(ref src, at + (pair ? {NB} : 0));");
            w.Line($"ref float line = ref Unsafe.Add(ref dx, (c * {H} + ih) * {W});");
            w.Line($"// piece column j of kw adds to input column (ow0 + j) * 2 + kw - {P}; of kw + 1 to the next one");
            w.Line("int a = Math.Max(from, from1), b = Math.Max(a, Math.Min(to, to1)), i = a;");
            w.Open("if (System.Runtime.Intrinsics.X86.Sse.IsSupported)");
            w.Open("for (; i + 4 <= b; i += 4)");
            w.Line($"ref float d = ref Unsafe.Add(ref line, (ow0 + i) * 2 + kw - {P});");
            w.Line("Vector128<float> r0 = Vector128.LoadUnsafe(ref row0, (nuint)i);");
            w.Line("Vector128<float> r1 = pair ? Vector128.LoadUnsafe(ref row1, (nuint)i) : Vector128<float>.Zero;");
            w.Line("(Vector128.LoadUnsafe(ref d) + System.Runtime.Intrinsics.X86.Sse.UnpackLow(r0, r1)).StoreUnsafe(ref d);");
            w.Line("(Vector128.LoadUnsafe(ref d, 4) + System.Runtime.Intrinsics.X86.Sse.UnpackHigh(r0, r1)).StoreUnsafe(ref d, 4);");
            w.Close();
            w.Close();
            w.Line("// the rest: columns outside [a, i)");
            w.Line($"for (int j = from; j < Math.Min(a, to); j++) Unsafe.Add(ref line, (ow0 + j) * 2 + kw - {P}) += Unsafe.Add(ref row0, j);");
            w.Line($"for (int j = Math.Max(i, from); j < to; j++) Unsafe.Add(ref line, (ow0 + j) * 2 + kw - {P}) += Unsafe.Add(ref row0, j);");
            w.Open("if (pair)");
            w.Line($"for (int j = from1; j < Math.Min(a, to1); j++) Unsafe.Add(ref line, (ow0 + j) * 2 + kw + 1 - {P}) += Unsafe.Add(ref row1, j);");
            w.Line($"for (int j = Math.Max(i, from1); j < to1; j++) Unsafe.Add(ref line, (ow0 + j) * 2 + kw + 1 - {P}) += Unsafe.Add(ref row1, j);");
            w.Close();
            w.Close().Close().Close().Close();
        }

        /// <summary>col2im's counterpart of <see cref="EmitIm2ColRows"/>: whole output rows, constant ranges per kw, unrolled
        /// vector adds (no overlapping last vector here, as it would add twice: the rest is scalar).</summary>
        private static void EmitCol2ImRows(CodeWriter w, CheckedLayer l, int NB)
        {
            int K = l.Kernel, P = l.Padding, H = l.Input.H, W = l.Input.W, OW = l.Output.W;
            w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
            w.Open("static void Rows(ref float col, ref float dx, int oh0, int rows)");
            w.Open($"for (int c = 0; c < {l.Input.C}; c++)");
            w.Open($"for (int kh = 0; kh < {K}; kh++)");
            w.Line($"ref float src = ref Unsafe.Add(ref col, (c * {K} + kh) * {K * NB});");
            w.Open("for (int r = 0; r < rows; r++)");
            w.Line($"int ih = oh0 + r - {P} + kh;");
            w.Line($"if ((uint)ih >= {H}u) continue;");
            w.Line($"ref float s = ref Unsafe.Add(ref src, r * {OW});");
            w.Line($"ref float d = ref Unsafe.Add(ref dx, (c * {H} + ih) * {W});");
            for (int kw = 0; kw < K; kw++)
            {
                (int lo, int hi, int from) = KernelColumnRange(l, kw);
                int len = hi - lo;
                if (len <= 0) continue;
                string sk = kw == 0 ? "s" : $"sk{kw}";
                if (kw > 0) w.Line($"ref float {sk} = ref Unsafe.Add(ref s, {kw * NB});");
                w.Line($"// kw = {kw}: columns [{lo}, {hi}) add to input column ow {(kw - P >= 0 ? "+ " + (kw - P) : "- " + (P - kw))}");
                int q = 0;
                for (; q + 4 <= len; q += 4)
                    w.Line($"(Vector128.LoadUnsafe(ref d, {from + q}) + Vector128.LoadUnsafe(ref {sk}, {lo + q})).StoreUnsafe(ref d, {from + q});");
                for (; q < len; q++) w.Line($"Unsafe.Add(ref d, {from + q}) += Unsafe.Add(ref {sk}, {lo + q});");
            }
            w.Close().Close().Close().Close();
        }

        public string ConvForward(CheckedLayer l, IsaTarget isa)
        {
            // 1x1 stride-1 convs pack the GEMM straight from the input (copying a large input block by block first measured
            // 10% slower forward and 13% slower backward-weights on 16 x 256 x 56 x 56 -> 64)
            bool direct = MemoryPlanner.IsDirectConv(l);
            string im2col = direct ? "" : ConvIm2Col(l);
            string name = ConvName(l) + "_Forward_" + isa.Name;
            int G = l.Groups, MG = l.Output.C / G, KG = l.Input.C / G * l.Kernel * l.Kernel, N = l.Output.H * l.Output.W;
            int NB = direct ? N : PixelBlock(l);
            bool streamed = direct && (long)KG * N * 4 > GemmEmitter.L2Bytes; // a 1x1 conv's input image outgrowing L2
            long inSize = l.Input.Size, outSize = l.Output.Size;
            bool packedWinograd = MemoryPlanner.IsPackedWinograd(l); // implies packed, below
            string winogradNote = "";
            if (packedWinograd)
            {
                var (th, _, tw4) = MemoryPlanner.PackedWinogradTiles(l);
                winogradNote = $" Inference with packed weights: Winograd F(2x2, 3x3), 16 GEMMs [{th * tw4} tiles x {l.Input.C}] * [{l.Input.C} x {l.Output.C}].";
            }
            return Use(name, l.Name, "Forward of " + ConvDescription(l) + (NB < N ? $" im2col and GEMM in blocks of {NB} pixels." : "") + winogradNote, w =>
            {
                bool rows = TeamSplitsRows(l);
                int NR = GemmEmitter.PanelWidth(isa), MR = GemmEmitter.TileRows(isa);
                w.Line("// part/parts: a team of workers shares each image (a batch smaller than the team still keeps every core busy;");
                w.Line(rows
                    ? $"// one worker: part 0 of 1). Over twice as many output channels as pixels: each worker takes its own {MR}-row tiles of"
                    : $"// one worker: part 0 of 1). Each worker takes its own {NR}-column strips");
                w.Line(rows
                    ? "// every group's output channels: it reads only its share of the weights (and builds the columns itself)."
                    : "// (output pixels) of each block: it builds and reads only its share of the columns.");
                bool packed = MemoryPlanner.IsPackedForward(l);
                if (packedWinograd)
                {
                    w.Line("// packedWeights: the Winograd F(2x2, 3x3) weights (WeightPacking.PackWinogradStrips: 16 matrices U^T in strips of the panel");
                    w.Line("// width), or a null reference; with them each image runs as Winograd F(2x2, 3x3) with the output channels as vectors");
                    w.Line("// (inference), the team splitting the channels.");
                }
                else if (packed)
                {
                    w.Line("// packedWeights: the packed weights (WeightPacking.PackStrips, strips of the panel width), or a null reference; with them each");
                    w.Line("// image runs as C^T = col^T * W^T with the output channels as vectors (inference), the team splitting the channels.");
                }
                w.Open($"private static void {name}(ref float x, ref float w, ref float bias, ref float y, ref float col, {(packed ? "ref float packedWeights, " : "")}int batch, int part, int parts)");
                if (rows)
                {
                    w.Line(GemmEmitter.RowShare(MG, MR));
                    w.Line("if (rBegin >= rEnd) return;");
                }
                GemmEmitter.DeclareScratch(w, isa);
                if (packedWinograd) DeclarePackedWinogradScratch(w, l);
                int blocks = (N + NB - 1) / NB;
                bool blockSplit = !rows && blocks > 1;
                if (blockSplit)
                {
                    w.Line($"// many pixel blocks ({blocks}) for the team: each worker takes whole blocks; else each takes strips of every block");
                    w.Line($"bool byBlocks = {blocks} >= 4 * parts;");
                    w.Line($"int pBegin = byBlocks ? part * {blocks} / parts * {NB} : 0, pEnd = byBlocks ? Math.Min((part + 1) * {blocks} / parts * {NB}, {N}) : {N};");
                }
                int IG = MemoryPlanner.ImageGroup(l);
                if (IG > 1)
                {
                    int IGN = IG * N;
                    string im2colGroup = ConvIm2Col(l, IGN);
                    w.Line("int n = 0;");
                    w.Line($"// {IG} images per GEMM ({IGN} columns: fuller register strips than {N} per image); a team shares single images below");
                    // packed Winograd is 1.45x faster per image than the group's direct GEMM (4 x 512 x 7 x 7 -> 512, 1 thread, loop bests
                    // 12.0-12.9 -> 7.7-8.7 ms; 8.5-11.0 with the weights streamed from memory), so inference takes every image through it
                    if (packedWinograd) w.Line("// (an inference with packed weights runs every image as Winograd F(2x2, 3x3) below: fewer multiplications than the group's GEMM)");
                    w.Open($"if (parts == 1{(packedWinograd ? " && Unsafe.IsNullRef(ref packedWeights)" : "")}) for (; n + {IG} <= batch; n += {IG})");
                    w.Line($"for (int i = 0; i < {IG}; i++) {im2colGroup}(ref Unsafe.Add(ref x, (n + i) * {inSize}), ref Unsafe.Add(ref col, i * {N}), 0, {N});");
                    w.Line($"ref float cy = ref Unsafe.Add(ref col, {(long)KG * IGN}); // the group's output [{MG} x {IGN}], then each image's rows");
                    GemmEmitter.Emit(w, new BroadcastGemm
                    {
                        Name = "ForwardGroup", Rows = I(MG), RowsConst = MG, N = IGN, T = I(KG), TConst = KG,
                        A = "w", LdAr = KG, LdAt = 1,
                        B = "col", LdB = IGN, C = "cy", LdC = IGN,
                        Init = l.Bias ? "bias" : null,
                    }, isa);
                    w.Open($"for (int i = 0; i < {IG}; i++)");
                    w.Line($"ref float yi = ref Unsafe.Add(ref y, (n + i) * {outSize});");
                    w.Line($"for (int m = 0; m < {MG}; m++) MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref cy, m * {IGN} + i * {N}), {N}).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref yi, m * {N}), {N}));");
                    w.Close();
                    w.Close();
                }
                w.Open(IG > 1 ? "for (; n < batch; n++)" : "for (int n = 0; n < batch; n++)");
                w.Line($"ref float xn = ref Unsafe.Add(ref x, n * {inSize});");
                w.Line($"ref float yn = ref Unsafe.Add(ref y, n * {outSize});");
                if (packedWinograd)
                {
                    w.Open("if (!Unsafe.IsNullRef(ref packedWeights))");
                    EmitPackedWinograd(w, l, isa);
                    w.Line("continue;");
                    w.Close();
                }
                else if (packed)
                {
                    int strips = l.Output.C / NR;
                    w.Open("if (!Unsafe.IsNullRef(ref packedWeights))");
                    w.Line($"// C^T [{N} pixels x {MG} channels] = col^T * W^T: the pixels fill {MR}-row register tiles, the channels whole vectors;");
                    w.Line($"// each worker takes its own {NR}-channel strips (its share of the packed weights), then writes them transposed to y");
                    w.Line($"int jBegin = part * {strips} / parts * {NR}, jEnd = (part + 1) * {strips} / parts * {NR};");
                    w.Line("if (jBegin >= jEnd) continue;");
                    w.Line($"{im2col}(ref xn, ref col, 0, {N});");
                    w.Line($"ref float ct = ref Unsafe.Add(ref col, {(long)KG * N});");
                    GemmEmitter.Emit(w, new BroadcastGemm
                    {
                        Name = "Packed", Rows = I(N), RowsConst = N, N = MG, T = I(KG), TConst = KG,
                        A = "col", LdAr = 1, LdAt = N,
                        B = "packedWeights", BPrepacked = true, C = "ct", LdC = MG, ColumnRange = true,
                        // every strip's tiles read the columns' depth block: it and the strip's block (24 KiB) stay in L1, with room for C's tile
                        // and the next block's prefetched lines (32 KiB measured 3-4% slower on a 32 KiB L1: the 512 x 7 x 7 conv, 1 thread,
                        // medians 2.76-2.77 -> 2.66 ms; 16 KiB 2.69)
                        DepthLimit = 6144 / (N + NR), FitRows = true,
                    }, isa);
                    w.Line($"// y[m][p] = C^T[p][m]{(l.Bias ? " + bias[m]" : "")} for this worker's channels");
                    w.Open("for (int m = jBegin; m < jEnd; m++)");
                    w.Line($"ref float ym = ref Unsafe.Add(ref yn, m * {N});");
                    w.Line($"ref float cm = ref Unsafe.Add(ref ct, m);");
                    if (l.Bias) w.Line("float b = Unsafe.Add(ref bias, m);");
                    w.Line($"for (int p = 0; p < {N}; p++) Unsafe.Add(ref ym, p) = Unsafe.Add(ref cm, p * {MG}){(l.Bias ? " + b" : "")};");
                    w.Close();
                    w.Line("continue;");
                    w.Close();
                }
                PixelBlocks(w, N, NB, im2col: rows && !direct, (width, suffix) =>
                {
                    if (!rows)
                    {
                        int strips = (width + NR - 1) / NR;
                        w.Line(blockSplit
                            ? $"int jBegin = byBlocks ? 0 : part * {strips} / parts * {NR}, jEnd = byBlocks ? {strips * NR} : (part + 1) * {strips} / parts * {NR};"
                            : $"int jBegin = part * {strips} / parts * {NR}, jEnd = (part + 1) * {strips} / parts * {NR};");
                        w.Line("if (jBegin >= jEnd) continue;");
                    }
                    if (direct) w.Line("ref float cols = ref Unsafe.Add(ref xn, p0);");
                    else
                    {
                        w.Line(rows
                            ? $"{im2col}(ref xn, ref col, p0, count);"
                            : $"{im2col}(ref xn, ref Unsafe.Add(ref col, jBegin), p0 + jBegin, Math.Min(jEnd, {width}) - jBegin);");
                        w.Line("ref float cols = ref col;");
                    }
                    OpenGroups(w, G);
                    w.Line($"ref float wg = ref Unsafe.Add(ref w, g * {MG * KG});");
                    w.Line($"ref float cg = ref Unsafe.Add(ref cols, g * {KG * NB});");
                    w.Line($"ref float yg = ref Unsafe.Add(ref yn, g * {MG * N} + p0);");
                    if (l.Bias) w.Line($"ref float bg = ref Unsafe.Add(ref bias, g * {MG});");
                    GemmEmitter.Emit(w, new BroadcastGemm
                    {
                        Name = "Forward" + suffix, Rows = I(MG), RowsConst = MG, N = width, T = I(KG), TConst = KG,
                        A = "wg", LdAr = KG, LdAt = 1,
                        B = "cg", LdB = NB, C = "yg", LdC = N,
                        Init = l.Bias ? "bg" : null, ColumnRange = !rows, RowRange = rows,
                        // B read in place, not copied into panels first (its rows are the strips' rows already): the im2col columns (the
                        // 7x7 stem, 16 images: 21.1-21.3 -> 19.4 ms), and a 1x1 conv's input when it outgrows L2 (copying it cost a
                        // fifth of the time), whose next block's rows are prefetched. Not on AVX2: its strips are one line wide, so a
                        // strip's rows (a plane apart: 3136 floats = 196 lines, a multiple of 4) fall in a quarter of L1's sets and
                        // every row tile fetched them again; packed, 16x256x56x56 -> 64 forward measured 30.5-30.9 -> 25.6-27.4 ms
                        PrefetchB = streamed, BInPlace = !direct || (streamed && isa.Width != 8),
                    }, isa);
                    w.Close();
                }, blockSplit ? "pBegin" : null, blockSplit ? "pEnd" : null);
                w.Close().Close();
            });
        }

        /// <summary>How a team splits this conv's forward (<see cref="MemoryPlanner.TeamSplitsRows"/>).</summary>
        public static bool TeamSplitsRows(CheckedLayer l) => MemoryPlanner.TeamSplitsRows(l);

        private static void OpenGroups(CodeWriter w, int groups)
        {
            if (groups > 1) w.Open($"for (int g = 0; g < {groups}; g++)");
            else { w.Open(""); w.Line("const int g = 0;"); }
        }

        /// <summary>db[m] += the sum of row m of <paramref name="rows"/> (<paramref name="length"/> floats per row, rows
        /// back to back): one vector accumulator per row, then its lanes, then the scalar tail.</summary>
        private static void EmitBiasRowSums(CodeWriter w, IsaTarget isa, string rows, int count, int length)
        {
            w.Line("// db[m] += sum_j dy[m][j]");
            w.Open($"for (int m = 0; m < {count}; m++)");
            w.Line($"ref float row = ref Unsafe.Add(ref {rows}, m * {length});");
            w.Line($"{isa.V} acc = {isa.V}.Zero;");
            w.Line("int j = 0;");
            w.Line($"for (; j + {isa.Width} <= {length}; j += {isa.Width}) acc += {isa.Vec}.LoadUnsafe(ref row, (nuint)j);");
            w.Line($"float sum = {isa.Vec}.Sum(acc);");
            w.Line($"for (; j < {length}; j++) sum += Unsafe.Add(ref row, j);");
            w.Line("Unsafe.Add(ref db, m) += sum;");
            w.Close();
        }

        public string ConvBackward(CheckedLayer l, IsaTarget isa)
        {
            bool direct = MemoryPlanner.IsDirectConv(l); // the GEMMs read x and write dx directly (1x1 stride 1)
            string im2col = direct ? "" : ConvIm2Col(l);
            string col2im = direct ? "" : ConvCol2Im(l);
            string name = ConvName(l) + "_Backward_" + isa.Name;
            int G = l.Groups, MG = l.Output.C / G, KG = l.Input.C / G * l.Kernel * l.Kernel, N = l.Output.H * l.Output.W;
            int NB = direct ? N : PixelBlock(l);
            long inSize = l.Input.Size, outSize = l.Output.Size;
            return Use(name, l.Name, "Backward of " + ConvDescription(l) + " Adds dy * col^T to dW (and row sums of dy to db) when weights; writes dx = col2im(W^T * dy) when inputGradient" + (NB < N ? $"; in blocks of {NB} pixels." : "."), w =>
            {
                w.Open($"private static void {name}(ref float x, ref float w, ref float dy, ref float dw, ref float db, ref float dx, ref float col, ref float dcol, int batch, bool weights, bool inputGradient)");
                GemmEmitter.DeclareScratch(w, isa);
                int IG = MemoryPlanner.ImageGroup(l);
                if (IG > 1)
                {
                    int IGN = IG * N;
                    string im2colGroup = ConvIm2Col(l, IGN), col2imGroup = ConvCol2Im(l, IGN);
                    w.Line("int n = 0;");
                    w.Line($"// {IG} images per GEMM ({IGN} columns): the weight gradient sums over all of them in one pass");
                    w.Open($"for (; n + {IG} <= batch; n += {IG})");
                    w.Line($"if (weights) for (int i = 0; i < {IG}; i++) {im2colGroup}(ref Unsafe.Add(ref x, (n + i) * {inSize}), ref Unsafe.Add(ref col, i * {N}), 0, {N});");
                    w.Line($"ref float gy = ref Unsafe.Add(ref col, {(long)KG * IGN}); // the group's output gradient side by side [{MG} x {IGN}]");
                    w.Open($"for (int i = 0; i < {IG}; i++)");
                    w.Line($"ref float dyi = ref Unsafe.Add(ref dy, (n + i) * {outSize});");
                    w.Line($"for (int m = 0; m < {MG}; m++) MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref dyi, m * {N}), {N}).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref gy, m * {IGN} + i * {N}), {N}));");
                    w.Close();
                    w.Open("if (weights)");
                    w.Line("// dW[m][k] += sum_j dy[m][j] * col[k][j] over the group's columns");
                    GemmEmitter.Emit(w, new BroadcastGemm
                    {
                        Name = "WeightGradGroup", Rows = I(MG), RowsConst = MG, N = KG, T = I(IGN), TConst = IGN,
                        A = "gy", LdAr = IGN, LdAt = 1,
                        B = "col", LdB = IGN, BTransposed = true, C = "dw", LdC = KG, Accumulate = true,
                        PrefetchC = (long)MG * KG * 4 > GemmEmitter.L2Bytes,
                    }, isa);
                    if (l.Bias)
                    {
                        EmitBiasRowSums(w, isa, "gy", l.Output.C, IGN);
                    }
                    w.Close();
                    w.Line("if (!inputGradient) continue;");
                    w.Line("// dcol = W^T * dy over the group's columns, then col2im into each image's dx");
                    GemmEmitter.Emit(w, new BroadcastGemm
                    {
                        Name = "InputGradGroup", Rows = I(KG), RowsConst = KG, N = IGN, T = I(MG), TConst = MG,
                        A = "w", LdAr = 1, LdAt = KG,
                        B = "gy", LdB = IGN, C = "dcol", LdC = IGN,
                    }, isa);
                    w.Open($"for (int i = 0; i < {IG}; i++)");
                    w.Line($"ref float dxi = ref Unsafe.Add(ref dx, (n + i) * {inSize});");
                    w.Line($"MemoryMarshal.CreateSpan(ref dxi, {inSize}).Clear();");
                    w.Line($"{col2imGroup}(ref Unsafe.Add(ref dcol, i * {N}), ref dxi, 0, {N});");
                    w.Close();
                    w.Close();
                }
                // the channels-last weight gradient runs over the whole batch first (its dW' lives in col across the images;
                // the input gradient below uses dcol only)
                bool channelsLast = MemoryPlanner.IsChannelsLastWeightGradient(l);
                if (channelsLast)
                {
                    w.Line($"if (weights) {ConvChannelsLastWeightGradient(l, isa)}(ref x, ref dy, ref dw, ref db, ref col, batch);");
                    w.Line("if (!inputGradient) return;");
                }
                w.Open(IG > 1 ? "for (; n < batch; n++)" : "for (int n = 0; n < batch; n++)");
                if (!channelsLast) w.Line($"ref float xn = ref Unsafe.Add(ref x, n * {inSize});");
                w.Line($"ref float dyn = ref Unsafe.Add(ref dy, n * {outSize});");
                w.Line($"ref float dxn = ref Unsafe.Add(ref dx, n * {inSize});");
                if (!channelsLast)
                {
                    w.Open("if (weights)");
                    bool swapped = MemoryPlanner.IsWeightGradientTransposed(l);
                    // the weight gradient's pixel block: the whole image when reloading dW once per block would move more data
                    // than the image's columns leaving L2 (MemoryPlanner.WholeImageWeightGradient)
                    bool wholeImage = MemoryPlanner.WholeImageWeightGradient(l);
                    int NBw = wholeImage ? N : NB;
                    string im2colW = wholeImage ? ConvIm2Col(l, N) : im2col;
                    // an implicit im2col: the columns' rows are read from shifted copies of the input planes
                    bool shifted = MemoryPlanner.IsShiftedPlaneWeightGradient(l);
                    string planes = shifted ? ConvShiftedPlanes(l, isa) : "";
                    if (swapped)
                    {
                        w.Line($"// dW^T[k][m] = sum_j col[k][j] * dy[m][j] into dcol: broadcast the columns, dy packed transposed ({MG} rows to");
                        w.Line($"// transpose instead of the columns' {KG}); added to dW after the image's blocks");
                        w.Line($"MemoryMarshal.CreateSpan(ref dcol, {G * KG * MG}).Clear();");
                    }
                    else if (shifted)
                    {
                        int K = l.Kernel, PS = MemoryPlanner.ShiftedPlaneLength(l);
                        w.Line("// dW[m][k] += sum_j dy[m][j] * col[k][j]: broadcast dy, col packed transposed, its row k = (c, kh, kw) read from");
                        w.Line($"// the shifted planes at ColumnStart(k) (no im2col matrix; {planes}, built for each strip's channels just");
                        w.Line("// before it is packed, while they are still in L1)");
                        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
                        w.Line($"static int ColumnStart(int k) => (k % {K} * {l.Input.C} + k / {K * K}) * {PS} + k / {K} % {K} * {l.Input.W} + k % {K};");
                    }
                    else w.Line("// dW[m][k] += sum_j dy[m][j] * col[k][j]: broadcast dy, col packed transposed");
                    PixelBlocks(w, N, NBw, !direct && !shifted, (width, suffix) =>
                    {
                        if (direct) w.Line("ref float cols = ref xn;");
                        else if (shifted) { w.Line("int built = 0; // input channels whose shifted planes are built"); w.Line("ref float cols = ref col;"); }
                        else { w.Line($"{im2colW}(ref xn, ref col, p0, count);"); w.Line("ref float cols = ref col;"); }
                        OpenGroups(w, G);
                        w.Line($"ref float dyg = ref Unsafe.Add(ref dyn, g * {MG * N} + p0);");
                        w.Line($"ref float ctg = ref Unsafe.Add(ref cols, g * {KG * NBw});");
                        if (swapped)
                        {
                            w.Line($"ref float dwt = ref Unsafe.Add(ref dcol, g * {KG * MG});");
                            GemmEmitter.Emit(w, new BroadcastGemm
                            {
                                Name = "WeightGrad" + suffix, Rows = I(KG), RowsConst = KG, N = MG, T = I(width), TConst = width,
                                A = "ctg", LdAr = NBw, LdAt = 1,
                                B = "dyg", LdB = N, BTransposed = true, C = "dwt", LdC = MG, Accumulate = true,
                                // a 1x1 conv's input is A, read straight from memory a depth block per row at a time
                                PrefetchA = direct && (long)KG * N * 4 > GemmEmitter.L2Bytes,
                            }, isa);
                        }
                        else
                        {
                            w.Line($"ref float dwg = ref Unsafe.Add(ref dw, g * {MG * KG});");
                            GemmEmitter.Emit(w, new BroadcastGemm
                            {
                                Name = "WeightGrad" + suffix, Rows = I(MG), RowsConst = MG, N = KG, T = I(width), TConst = width,
                                A = "dyg", LdAr = N, LdAt = 1,
                                B = "ctg", LdB = NBw, BTransposed = true, BRowStart = shifted ? k => $"ColumnStart({k})" : null,
                                BPrepare = shifted ? (first, count) => $"if ({first} + {count} > built * {l.Kernel * l.Kernel}) {{ int need = Math.Min(({first} + {count} + {l.Kernel * l.Kernel - 1}) / {l.Kernel * l.Kernel}, {l.Input.C}); {planes}(ref xn, ref col, built, need); built = need; }}" : null,
                                C = "dwg", LdC = KG, Accumulate = true, PrefetchC = (long)MG * KG * 4 > GemmEmitter.L2Bytes,
                            }, isa);
                        }
                        w.Close();
                    });
                    if (swapped)
                    {
                        w.Line("// dW[g][m][k] += dW^T[g][k][m]");
                        w.Open($"for (int gk = 0; gk < {G * KG}; gk++)");
                        w.Line($"int g = gk / {KG}, k = gk - g * {KG};");
                        w.Line($"ref float t = ref Unsafe.Add(ref dcol, gk * {MG});");
                        w.Line($"ref float d = ref Unsafe.Add(ref dw, g * {MG * KG} + k);");
                        w.Line($"for (int m = 0; m < {MG}; m++) Unsafe.Add(ref d, m * {KG}) += Unsafe.Add(ref t, m);");
                        w.Close();
                    }
                    if (l.Bias)
                    {
                        EmitBiasRowSums(w, isa, "dyn", l.Output.C, N);
                    }
                    w.Close();
                    w.Line("if (!inputGradient) continue;");
                }
                w.Line(direct ? "// dx = W^T * dy (1x1: the columns are the input pixels)" : "// dcol = W^T * dy per pixel block, then col2im into dx");
                if (!direct) w.Line($"MemoryMarshal.CreateSpan(ref dxn, {inSize}).Clear();");
                PixelBlocks(w, N, NB, !direct, (width, suffix) =>
                {
                    w.Line(direct ? "ref float dcols = ref dxn;" : "ref float dcols = ref dcol;");
                    OpenGroups(w, G);
                    w.Line($"ref float wg = ref Unsafe.Add(ref w, g * {MG * KG});");
                    w.Line($"ref float dyg = ref Unsafe.Add(ref dyn, g * {MG * N} + p0);");
                    w.Line($"ref float dcg = ref Unsafe.Add(ref dcols, g * {KG * NB});");
                    GemmEmitter.Emit(w, new BroadcastGemm
                    {
                        Name = "InputGrad" + suffix, Rows = I(KG), RowsConst = KG, N = width, T = I(MG), TConst = MG,
                        A = "wg", LdAr = 1, LdAt = KG,
                        B = "dyg", LdB = N, C = "dcg", LdC = NB,
                        // dx is written straight into a 1x1 conv's input gradient image, which outgrows L2: each row tile asks for the next
                        // tile's lines first (a read for ownership from memory otherwise stalls the stores). AVX2 (16x256x56x56 -> 64,
                        // forward + backward best of 4 alternations, 1 thread, Zen 3): 56.7-63.4 -> 49.6-56.5 ms; not measured on AVX-512
                        PrefetchC = direct && isa.Width == 8 && (long)KG * N * 4 > GemmEmitter.L2Bytes,
                    }, isa);
                    w.Close();
                    if (!direct) w.Line($"{col2im}(ref dcol, ref dxn, p0, count);");
                });
                w.Close().Close();
            });
        }

        // ---------------------------------------------------------------- dense

        public static string DenseName(CheckedLayer l) => $"Dense{l.Input.C}To{l.Output.C}{(l.Bias ? "" : "NoBias")}";

        public string DenseForward(CheckedLayer l, IsaTarget isa)
        {
            string name = DenseName(l) + "_Forward_" + isa.Name;
            int IN = l.Input.C, U = l.Output.C;
            return Use(name, l.Name, $"Forward of Dense {IN} -> {U}{(l.Bias ? "" : ", no bias")}: y[b][u] = {(l.Bias ? "bias[u] + " : "")}sum_i x[b][i] * W[u][i] (W is [{U} x {IN}], PyTorch's layout).", w =>
            {
                w.Open($"private static void {name}(ref float x, ref float w, ref float bias, ref float y, int batch)");
                GemmEmitter.Emit(w, new DotGemm
                {
                    Rows = "batch", Cols = I(U), L = IN, A = "x", LdA = IN, B = "w", LdB = IN,
                    C = (r, s) => $"Unsafe.Add(ref y, ({r}) * {U} + {s})",
                    Init = l.Bias ? s => $"Unsafe.Add(ref bias, {s})" : null,
                }, isa);
                w.Close();
            });
        }

        public string DenseBackward(CheckedLayer l, IsaTarget isa)
        {
            string name = DenseName(l) + "_Backward_" + isa.Name;
            int IN = l.Input.C, U = l.Output.C;
            string V = isa.Vec;
            return Use(name, l.Name, $"Backward of Dense {IN} -> {U}: dW += dy^T * x, db += column sums of dy (when weights), dx = dy * W (when inputGradient).", w =>
            {
                w.Open($"private static void {name}(ref float x, ref float w, ref float dy, ref float dw, ref float db, ref float dx, int batch, bool weights, bool inputGradient)");
                GemmEmitter.DeclareScratch(w, isa);
                w.Open("if (weights)");
                w.Line("// dW[u][i] += sum_b dy[b][u] * x[b][i]");
                w.Open("");
                GemmEmitter.Emit(w, new BroadcastGemm
                {
                    Name = "WeightGrad", Rows = I(U), RowsConst = U, N = IN, T = "batch",
                    A = "dy", LdAr = 1, LdAt = U,
                    B = "x", LdB = IN, C = "dw", LdC = IN, Accumulate = true,
                }, isa);
                w.Close();
                if (l.Bias)
                {
                    w.Line("// db[u] += sum_b dy[b][u]");
                    w.Open("for (int b = 0; b < batch; b++)");
                    w.Line($"ref float row = ref Unsafe.Add(ref dy, b * {U});");
                    w.Line("int u = 0;");
                    w.Line($"for (; u + {isa.Width} <= {U}; u += {isa.Width}) ({V}.LoadUnsafe(ref db, (nuint)u) + {V}.LoadUnsafe(ref row, (nuint)u)).StoreUnsafe(ref db, (nuint)u);");
                    w.Line($"for (; u < {U}; u++) Unsafe.Add(ref db, u) += Unsafe.Add(ref row, u);");
                    w.Close();
                }
                w.Close();
                w.Line("if (!inputGradient) return;");
                w.Line("// dx[b][i] = sum_u dy[b][u] * W[u][i]");
                w.Open("");
                GemmEmitter.Emit(w, new BroadcastGemm
                {
                    Name = "InputGrad", Rows = "batch", N = IN, T = I(U), TConst = U,
                    A = "dy", LdAr = U, LdAt = 1,
                    B = "w", LdB = IN, C = "dx", LdC = IN,
                }, isa);
                w.Close();
                w.Close();
            });
        }

        // ---------------------------------------------------------------- element-wise

        public string ReluForward(CheckedLayer l, IsaTarget isa)
        {
            long size = l.Output.Size;
            string name = $"Relu{size}_Forward_{isa.Name}";
            string V = isa.Vec;
            return Use(name, l.Name, $"ReLU on {size} floats per image: y = max(x, 0), on worker part's share of them (GraphOps.Share).", w =>
            {
                w.Open($"private static void {name}(ref float x, ref float y, int batch, int part, int parts)");
                w.Line($"(int start, int length) = GraphOps.Share(batch * {size}, part, parts);");
                w.Line("x = ref Unsafe.Add(ref x, start);");
                w.Line("y = ref Unsafe.Add(ref y, start);");
                w.Line("nint count = length;");
                w.Line("nint i = 0;");
                w.Line($"for (; i + {isa.Width} <= count; i += {isa.Width}) {V}.Max({V}.LoadUnsafe(ref x, (nuint)i), {isa.V}.Zero).StoreUnsafe(ref y, (nuint)i);");
                w.Line("for (; i < count; i++) Unsafe.Add(ref y, i) = MathF.Max(Unsafe.Add(ref x, i), 0f);");
                w.Close();
            });
        }

        public string ReluBackward(CheckedLayer l, IsaTarget isa)
        {
            long size = l.Output.Size;
            string name = $"Relu{size}_Backward_{isa.Name}";
            string V = isa.Vec;
            return Use(name, l.Name, $"ReLU backward on {size} floats per image: dx = y > 0 ? dy : 0 (y is the forward output).", w =>
            {
                w.Open($"private static void {name}(ref float y, ref float dy, ref float dx, int batch)");
                w.Line($"nint count = (nint)batch * {size};");
                w.Line("nint i = 0;");
                w.Open($"for (; i + {isa.Width} <= count; i += {isa.Width})");
                w.Line($"{isa.V} positive = {V}.GreaterThan({V}.LoadUnsafe(ref y, (nuint)i), {isa.V}.Zero);");
                w.Line($"{V}.ConditionalSelect(positive, {V}.LoadUnsafe(ref dy, (nuint)i), {isa.V}.Zero).StoreUnsafe(ref dx, (nuint)i);");
                w.Close();
                w.Line("for (; i < count; i++) Unsafe.Add(ref dx, i) = Unsafe.Add(ref y, i) > 0f ? Unsafe.Add(ref dy, i) : 0f;");
                w.Close();
            });
        }

        // ---------------------------------------------------------------- pooling (scalar: memory-bound, no FMAs)

        private static string PoolName(CheckedLayer l, string kind) =>
            $"{kind}{l.Kernel}x{l.Kernel}S{l.Stride}P{l.Padding}{(l.CeilMode ? "Ceil" : "")}_{Chw(l.Input)}";

        /// <summary>The average's divisor: the window area, or with ceil mode the part of it inside the padded input
        /// (PyTorch's count_include_pad = True), computed per output.</summary>
        private static string AvgDivisor(CheckedLayer l)
        {
            if (!l.CeilMode) return $"(1f / {l.Kernel * l.Kernel})";
            int K = l.Kernel, S = l.Stride, P = l.Padding, H = l.Input.H, W = l.Input.W;
            return $"(1f / ((Math.Min(oh * {S} - {P} + {K}, {H + P}) - (oh * {S} - {P})) * (Math.Min(ow * {S} - {P} + {K}, {W + P}) - (ow * {S} - {P}))))";
        }

        /// <summary>Opens the loop over worker part's share of the planes (images x channels) with <c>xp</c>, <c>yp</c> (and
        /// <c>ap</c>, the argmax plane) at the plane's start; one worker (part 0 of 1) takes all of them.</summary>
        private static void OpenPlaneShare(CodeWriter w, CheckedLayer l, bool argmax, bool team = true)
        {
            int HW = l.Input.H * l.Input.W, OHW = l.Output.H * l.Output.W;
            if (team)
            {
                w.Line("// worker part's share of the planes (images x channels); one worker: all of them");
                w.Line($"int planes = batch * {l.Input.C};");
                w.Line("int planeEnd = (int)((long)planes * (part + 1) / parts);");
                w.Open("for (int plane = (int)((long)planes * part / parts); plane < planeEnd; plane++)");
            }
            else w.Open($"for (int plane = 0; plane < batch * {l.Input.C}; plane++)");
            w.Line($"ref float xp = ref Unsafe.Add(ref x, (nint)plane * {HW});");
            w.Line($"ref float yp = ref Unsafe.Add(ref y, (nint)plane * {OHW});");
            if (argmax) w.Line($"ref int ap = ref Unsafe.As<float, int>(ref Unsafe.Add(ref argmax, (nint)plane * {OHW}));");
        }

        private static void PoolLoops(CodeWriter w, CheckedLayer l, System.Action<CodeWriter> perOutputBefore, System.Action<CodeWriter> perInput, System.Action<CodeWriter> perOutputAfter, bool team = false)
        {
            int K = l.Kernel, S = l.Stride, P = l.Padding, H = l.Input.H, W = l.Input.W, OH = l.Output.H, OW = l.Output.W;
            OpenPlaneShare(w, l, argmax: false, team);
            w.Open($"for (int oh = 0; oh < {OH}; oh++)");
            w.Open($"for (int ow = 0; ow < {OW}; ow++)");
            w.Line($"int o = oh * {OW} + ow;");
            perOutputBefore(w);
            w.Open($"for (int kh = 0; kh < {K}; kh++)");
            w.Line($"int ih = oh * {S} - {P} + kh;");
            w.Line($"if ((uint)ih >= {H}u) continue;");
            w.Open($"for (int kw = 0; kw < {K}; kw++)");
            w.Line($"int iw = ow * {S} - {P} + kw;");
            w.Line($"if ((uint)iw >= {W}u) continue;");
            w.Line($"int at = ih * {W} + iw;");
            perInput(w);
            w.Close().Close();
            perOutputAfter(w);
            w.Close().Close().Close();
        }

        public string MaxPoolForward(CheckedLayer l, IsaTarget isa)
        {
            bool stride2 = IsStride2VectorPool(l);
            string name = PoolName(l, "MaxPool") + "_Forward" + (stride2 ? "_" + isa.Name : "");
            return Use(name, l.Name, $"MaxPool2D {Chw(l.Input)} -> {Chw(l.Output)}, window {l.Kernel}, stride {l.Stride}, padding {l.Padding} (-inf): y = max of the window; argmax keeps the winner's index for backward" + (stride2 ? " (none when argmax is a null reference: an inference whose activations no backward reads)." : "."), w =>
            {
                w.Open($"private static void {name}(ref float x, ref float y, ref float argmax, int batch, int part, int parts)");
                if (IsPairPool(l))
                {
                    EmitMaxPoolPairsForward(w, l);
                    w.Close();
                    return;
                }
                if (stride2)
                {
                    EmitMaxPoolStride2Forward(w, l, isa);
                    w.Close();
                    return;
                }
                EmitMaxPoolGeneralForward(w, l);
                w.Close();
            });
        }

        /// <summary>Any max pool, one output at a time (window cells outside the input skipped: -inf padding).</summary>
        private static void EmitMaxPoolGeneralForward(CodeWriter w, CheckedLayer l, bool relu = false)
        {
            PoolLoops(w, l,
                b => { b.Line("float best = float.NegativeInfinity;"); b.Line("int bestAt = -1;"); },
                b => { b.Line("float v = Unsafe.Add(ref xp, at);"); b.Line("if (v > best || bestAt < 0) { best = v; bestAt = at; }"); },
                b =>
                {
                    b.Line(relu ? "Unsafe.Add(ref yp, o) = MathF.Max(best, 0f); // the ReLU" : "Unsafe.Add(ref yp, o) = best;");
                    b.Line($"Unsafe.As<float, int>(ref Unsafe.Add(ref argmax, (nint)plane * {l.Output.H * l.Output.W} + o)) = bestAt;");
                }, team: true);
        }

        /// <summary>A stride-2 max pool (not the pair pool) whose rows have at least 4 outputs with the whole window inside the
        /// input: its forward runs on deinterleaved input rows (<see cref="EmitMaxPoolStride2Forward"/>) and may skip the
        /// argmax (the caller passes a null reference when no backward will read it).</summary>
        public static bool IsStride2VectorPool(CheckedLayer l) =>
            l.Kind == LayerKind.MaxPool2D && !IsPairPool(l) && l.Stride == 2 && Stride2Columns(l).End - Stride2Columns(l).Begin >= 4;

        /// <summary>Forward of ReLU -> max pool in one pass over the ReLU's input: max(0, max of the window) equals the
        /// max of the ReLU'd window (the ReLU is monotonic; padding is -inf), so the ReLU's output is never written. The
        /// argmax is the raw window's; where the pooled value is 0 the backward masks it, so the gradients equal the two-pass
        /// ones. Pair pools, stride-2 vector pools (ResNet's stem: as their plain forward, a null argmax skips the indices)
        /// and the general loop.</summary>
        public string MaxPoolReluForward(CheckedLayer l, IsaTarget isa)
        {
            bool stride2 = IsStride2VectorPool(l);
            string name = PoolName(l, "MaxPool") + "_ReluForward" + (stride2 ? "_" + isa.Name : "");
            return Use(name, l.Name, $"ReLU -> MaxPool2D {Chw(l.Input)} -> {Chw(l.Output)}, window {l.Kernel}, stride {l.Stride}, padding {l.Padding}, in one pass: y = max(0, max of the window of the ReLU's input); argmax keeps the winner's index for backward.", w =>
            {
                w.Open($"private static void {name}(ref float x, ref float y, ref float argmax, int batch, int part, int parts)");
                if (IsPairPool(l)) EmitMaxPoolPairsForward(w, l, relu: true);
                else if (stride2) EmitMaxPoolStride2Forward(w, l, isa, relu: true);
                else EmitMaxPoolGeneralForward(w, l, relu: true);
                w.Close();
            });
        }

        /// <summary>Rows of 4 outputs of a pair pool are 8 contiguous inputs of two rows, split into even and odd lanes.</summary>
        private static bool IsPairPool(CheckedLayer l) => Plan.MemoryPlanner.IsPairPool(l);

        /// <summary>Forward of a pair pool: per output row, 4 outputs at a time from the even/odd lanes of the two input
        /// rows (Sse.Shuffle 0x88 / 0xDD), compared in the scalar loop's order (kh, then kw; the first of equal values
        /// wins, NaN never replaces), so values and argmax equal the general loop's; the row's last outputs one by one.</summary>
        private static void EmitMaxPoolPairsForward(CodeWriter w, CheckedLayer l, bool relu = false)
        {
            int H = l.Input.H, W = l.Input.W, OH = l.Output.H, OW = l.Output.W;
            OpenPlaneShare(w, l, argmax: true);
            w.Open($"for (int oh = 0; oh < {OH}; oh++)");
            w.Line($"int top = oh * {2 * W}; // index of the window row's first input in the plane");
            w.Line($"ref float r0 = ref Unsafe.Add(ref xp, top);");
            w.Line($"ref float r1 = ref Unsafe.Add(ref xp, top + {W});");
            w.Line($"ref float yr = ref Unsafe.Add(ref yp, oh * {OW});");
            w.Line($"ref int ar = ref Unsafe.Add(ref ap, oh * {OW});");
            w.Line("int ow = 0;");
            if (OW >= 4)
            {
                w.Open("if (System.Runtime.Intrinsics.X86.Sse.IsSupported)");
                w.Line("Vector128<int> lanes = Vector128.Create(0, 2, 4, 6);");
                w.Open($"for (; ow + 4 <= {OW}; ow += 4)");
                w.Line("Vector128<float> a0 = Vector128.LoadUnsafe(ref r0, (nuint)(2 * ow)), a1 = Vector128.LoadUnsafe(ref r0, (nuint)(2 * ow + 4));");
                w.Line("Vector128<float> b0 = Vector128.LoadUnsafe(ref r1, (nuint)(2 * ow)), b1 = Vector128.LoadUnsafe(ref r1, (nuint)(2 * ow + 4));");
                w.Line("Vector128<int> at = lanes + Vector128.Create(top + 2 * ow);");
                w.Line("Vector128<float> best = System.Runtime.Intrinsics.X86.Sse.Shuffle(a0, a1, 0x88); // kh 0, kw 0");
                w.Line("Vector128<int> bestAt = at;");
                foreach ((string v, string mask, string offset, string what) in new[] { ("a", "0xDD", "1", "kh 0, kw 1"), ("b", "0x88", $"{W}", "kh 1, kw 0"), ("b", "0xDD", $"{W + 1}", "kh 1, kw 1") })
                {
                    w.Line($"Vector128<float> c{offset} = System.Runtime.Intrinsics.X86.Sse.Shuffle({v}0, {v}1, {mask}); // {what}");
                    w.Line($"Vector128<float> wins{offset} = Vector128.GreaterThan(c{offset}, best);");
                    w.Line($"best = Vector128.ConditionalSelect(wins{offset}, c{offset}, best);");
                    w.Line($"bestAt = Vector128.ConditionalSelect(wins{offset}.AsInt32(), at + Vector128.Create({offset}), bestAt);");
                }
                w.Line(relu ? "Vector128.Max(best, Vector128<float>.Zero).StoreUnsafe(ref yr, (nuint)ow); // the ReLU" : "best.StoreUnsafe(ref yr, (nuint)ow);");
                w.Line("bestAt.StoreUnsafe(ref ar, (nuint)ow);");
                w.Close();
                w.Close();
            }
            w.Open($"for (; ow < {OW}; ow++)");
            w.Line("int at = top + 2 * ow;");
            w.Line("float best = Unsafe.Add(ref xp, at);");
            w.Line("int bestAt = at;");
            foreach (string offset in new[] { "1", $"{W}", $"{W + 1}" })
                w.Line($"if (Unsafe.Add(ref xp, at + {offset}) > best) {{ best = Unsafe.Add(ref xp, at + {offset}); bestAt = at + {offset}; }}");
            w.Line(relu ? "Unsafe.Add(ref yr, ow) = MathF.Max(best, 0f); // the ReLU" : "Unsafe.Add(ref yr, ow) = best;");
            w.Line("Unsafe.Add(ref ar, ow) = bestAt;");
            w.Close();
            w.Close();
            w.Close();
        }

        /// <summary>The output columns [Begin, End) of a stride-2 pool whose window lies inside the input's columns.</summary>
        private static (int Begin, int End) Stride2Columns(CheckedLayer l)
        {
            int K = l.Kernel, P = l.Padding, W = l.Input.W;
            int begin = (P + 1) / 2, end = W - K + P < 0 ? 0 : Math.Min(l.Output.W, (W - K + P) / 2 + 1);
            return (begin, Math.Max(begin, end));
        }

        /// <summary>Forward of a stride-2 max pool (any window and padding, e.g. ResNet's 3x3/2 pad 1 stem pool). Each
        /// output row first splits its window's input rows into even and odd columns (the inputs 2 * ow - P + kw of a row of
        /// outputs are then one contiguous run of the even or the odd half), so the outputs whose window lies inside the
        /// input's columns take plain vector loads, a whole vector of outputs at a time (the last vector overlapping the one
        /// before), over the window rows that lie inside the input. Cells are compared in the scalar order (kh, then kw; the
        /// first of equal values wins, NaN never replaces), so values and argmax equal the general loop's. The columns
        /// outside that range go through the general per-output loop. With a null argmax (an inference whose activations
        /// no backward reads) the indices are neither kept nor written.</summary>
        private static void EmitMaxPoolStride2Forward(CodeWriter w, CheckedLayer l, IsaTarget isa, bool relu = false)
        {
            int K = l.Kernel, P = l.Padding, H = l.Input.H, W = l.Input.W, OH = l.Output.H, OW = l.Output.W;
            int EW = (W + 1) / 2, OWd = Math.Max(1, W / 2);
            var (owBegin, owEnd) = Stride2Columns(l);
            // the widest vector the output range fills, so small maps still take the vector path on AVX-512
            (string Vec, int Width) = owEnd - owBegin >= isa.Width ? (isa.Vec, isa.Width) : owEnd - owBegin >= 8 && isa.Width >= 8 ? ("Vector256", 8) : ("Vector128", 4);
            string V = Vec + "<float>", VI = Vec + "<int>";
            w.Line($"// output columns [{owBegin}, {owEnd}) {Width} at a time from the window rows' even and odd columns; the rest one by one");
            w.Line("bool keep = !Unsafe.IsNullRef(ref argmax); // the indices, for a backward");
            w.Line($"Span<float> halves = stackalloc float[{K * (EW + OWd)}]; // the window rows' even columns, then their odd columns");
            w.Line("ref float even = ref MemoryMarshal.GetReference(halves);");
            w.Line($"ref float odd = ref Unsafe.Add(ref even, {K * EW});");
            w.Line($"{VI} lanes = {VI}.Indices * 2; // input column offsets of the lanes' windows");
            OpenPlaneShare(w, l, argmax: false);
            w.Line($"ref int ap = ref keep ? ref Unsafe.As<float, int>(ref Unsafe.Add(ref argmax, (nint)plane * {OH * OW})) : ref Unsafe.NullRef<int>();");
            w.Open($"for (int oh = 0; oh < {OH}; oh++)");
            w.Line($"int ih0 = oh * 2 - {P}; // the window's first input row");
            w.Line($"int khLo = Math.Max(0, -ih0), khHi = Math.Min({K}, {H} - ih0); // its rows inside the input");
            w.Line($"for (int kh = khLo; kh < khHi; kh++) Split(ref Unsafe.Add(ref xp, (ih0 + kh) * {W}), ref Unsafe.Add(ref even, kh * {EW}), ref Unsafe.Add(ref odd, kh * {OWd}));");
            w.Line($"ref float yr = ref Unsafe.Add(ref yp, oh * {OW});");
            if (owBegin > 0) w.Line($"for (int ow = 0; ow < {owBegin}; ow++) One(ref xp, ref yp, ref ap, keep, oh, ow);");
            w.Open($"for (int ow0 = {owBegin}; ow0 < {owEnd}; ow0 += {Width})");
            w.Line($"int ow = Math.Min(ow0, {owEnd - Width}); // the last vector overlaps the one before");
            w.Line($"{V} best;");
            w.Line($"{VI} bestAt = default;");
            w.Line($"{VI} at;");
            // the first window row initialises best with its first cell, the others compare every cell
            for (int pass = 0; pass < 2; pass++)
            {
                if (pass == 0) { w.Open(""); w.Line("int kh = khLo;"); }
                else w.Open("for (int kh = khLo + 1; kh < khHi; kh++)");
                w.Line($"ref float e = ref Unsafe.Add(ref even, kh * {EW});");
                w.Line($"ref float d = ref Unsafe.Add(ref odd, kh * {OWd});");
                w.Line($"at = lanes + {Vec}.Create((ih0 + kh) * {W} + ow * 2 - {P}); // input index of cell (kh, 0) per lane");
                for (int kw = 0; kw < K; kw++)
                {
                    int rel = kw - P; // input column 2 * ow + rel
                    string load = ((rel % 2) + 2) % 2 == 0
                        ? $"{Vec}.LoadUnsafe(ref e, (nuint)(ow {Signed(FloorDiv(rel, 2))}))"
                        : $"{Vec}.LoadUnsafe(ref d, (nuint)(ow {Signed(FloorDiv(rel - 1, 2))}))";
                    string idx = kw == 0 ? "at" : $"at + {Vec}.Create({kw})";
                    if (pass == 0 && kw == 0)
                    {
                        w.Line($"best = {load}; // kw 0");
                        w.Line($"if (keep) bestAt = {idx};");
                        continue;
                    }
                    w.Line($"{V} c{kw} = {load}; // kw {kw}");
                    w.Line($"{V} wins{kw} = {Vec}.GreaterThan(c{kw}, best);");
                    w.Line($"best = {Vec}.ConditionalSelect(wins{kw}, c{kw}, best);");
                    w.Line($"if (keep) bestAt = {Vec}.ConditionalSelect(wins{kw}.AsInt32(), {idx}, bestAt);");
                }
                w.Close();
            }
            w.Line(relu ? $"{Vec}.Max(best, {V}.Zero).StoreUnsafe(ref yr, (nuint)ow); // the ReLU" : "best.StoreUnsafe(ref yr, (nuint)ow);");
            w.Line($"if (keep) bestAt.StoreUnsafe(ref ap, (nuint)(oh * {OW} + ow));");
            w.Close();
            if (owEnd < OW) w.Line($"for (int ow = {owEnd}; ow < {OW}; ow++) One(ref xp, ref yp, ref ap, keep, oh, ow);");
            w.Close();
            w.Close();
            w.Line();
            w.Line($"// an input row's even columns to e[0, {EW}) and odd columns to d[0, {W / 2})");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            w.Open("static void Split(ref float src, ref float e, ref float d)");
            w.Line("int j = 0;");
            w.Open("if (System.Runtime.Intrinsics.X86.Sse.IsSupported)");
            w.Open($"for (; j + 4 <= {W / 2}; j += 4)");
            w.Line("Vector128<float> a = Vector128.LoadUnsafe(ref src, (nuint)(2 * j)), b = Vector128.LoadUnsafe(ref src, (nuint)(2 * j + 4));");
            w.Line("System.Runtime.Intrinsics.X86.Sse.Shuffle(a, b, 0x88).StoreUnsafe(ref e, (nuint)j);");
            w.Line("System.Runtime.Intrinsics.X86.Sse.Shuffle(a, b, 0xDD).StoreUnsafe(ref d, (nuint)j);");
            w.Close();
            w.Close();
            w.Line($"for (; j < {W / 2}; j++) {{ Unsafe.Add(ref e, j) = Unsafe.Add(ref src, 2 * j); Unsafe.Add(ref d, j) = Unsafe.Add(ref src, 2 * j + 1); }}");
            if (W % 2 == 1) w.Line($"Unsafe.Add(ref e, {EW - 1}) = Unsafe.Add(ref src, {W - 1});");
            w.Close();
            if (owBegin == 0 && owEnd == OW) return; // every column's window lies inside the input's columns
            w.Line();
            w.Line("// one output by the general loop: window cells outside the input are skipped (-inf padding)");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
            w.Open("static void One(ref float xp, ref float yp, ref int ap, bool keep, int oh, int ow)");
            w.Line("float best = float.NegativeInfinity;");
            w.Line("int bestAt = -1;");
            w.Open($"for (int kh = 0; kh < {K}; kh++)");
            w.Line($"int ih = oh * 2 - {P} + kh;");
            w.Line($"if ((uint)ih >= {H}u) continue;");
            w.Open($"for (int kw = 0; kw < {K}; kw++)");
            w.Line($"int iw = ow * 2 - {P} + kw;");
            w.Line($"if ((uint)iw >= {W}u) continue;");
            w.Line($"int at = ih * {W} + iw;");
            w.Line("float v = Unsafe.Add(ref xp, at);");
            w.Line("if (v > best || bestAt < 0) { best = v; bestAt = at; }");
            w.Close().Close();
            w.Line(relu ? $"Unsafe.Add(ref yp, oh * {OW} + ow) = MathF.Max(best, 0f); // the ReLU" : $"Unsafe.Add(ref yp, oh * {OW} + ow) = best;");
            w.Line($"if (keep) Unsafe.Add(ref ap, oh * {OW} + ow) = bestAt;");
            w.Close();
        }

        private static int FloorDiv(int a, int b) => (int)Math.Floor((double)a / b);
        private static string Signed(int v) => v < 0 ? $"- {-v}" : $"+ {v}";

        /// <summary>Backward of a pair pool: every input of a window gets dy or 0 by the argmax, written row by row (no
        /// scatter, and no clearing unless an odd last row or column lies outside every window).</summary>
        private static void EmitMaxPoolPairsBackward(CodeWriter w, CheckedLayer l, bool relu = false)
        {
            int H = l.Input.H, W = l.Input.W, OH = l.Output.H, OW = l.Output.W;
            if (H % 2 != 0 || W % 2 != 0)
                w.Line($"MemoryMarshal.CreateSpan(ref dx, batch * {l.Input.Size}).Clear(); // the odd last row or column outside every window");
            w.Open($"for (int plane = 0; plane < batch * {l.Input.C}; plane++)");
            w.Line($"ref float dxp = ref Unsafe.Add(ref dx, (nint)plane * {H * W});");
            w.Line($"ref float dyp = ref Unsafe.Add(ref dy, (nint)plane * {OH * OW});");
            w.Line($"ref int ap = ref Unsafe.As<float, int>(ref Unsafe.Add(ref argmax, (nint)plane * {OH * OW}));");
            w.Open($"for (int oh = 0; oh < {OH}; oh++)");
            w.Line($"int top = oh * {2 * W};");
            w.Line($"ref float d0 = ref Unsafe.Add(ref dxp, top);");
            w.Line($"ref float d1 = ref Unsafe.Add(ref dxp, top + {W});");
            w.Line($"ref float gr = ref Unsafe.Add(ref dyp, oh * {OW});");
            if (relu) w.Line($"ref float yr = ref Unsafe.Add(ref y, (nint)plane * {OH * OW} + oh * {OW});");
            w.Line($"ref int ar = ref Unsafe.Add(ref ap, oh * {OW});");
            w.Line("int ow = 0;");
            if (OW >= 4)
            {
                w.Open("if (System.Runtime.Intrinsics.X86.Sse.IsSupported)");
                w.Line("Vector128<int> lanes = Vector128.Create(0, 2, 4, 6);");
                w.Open($"for (; ow + 4 <= {OW}; ow += 4)");
                w.Line("Vector128<float> g = Vector128.LoadUnsafe(ref gr, (nuint)ow);");
                if (relu) w.Line("g = Vector128.ConditionalSelect(Vector128.GreaterThan(Vector128.LoadUnsafe(ref yr, (nuint)ow), Vector128<float>.Zero), g, Vector128<float>.Zero); // the ReLU's mask");
                w.Line("Vector128<int> won = Vector128.LoadUnsafe(ref ar, (nuint)ow) - (lanes + Vector128.Create(top + 2 * ow)); // 0, 1, W or W + 1");
                w.Line("Vector128<float> g00 = Vector128.ConditionalSelect(Vector128.Equals(won, Vector128<int>.Zero).AsSingle(), g, Vector128<float>.Zero);");
                w.Line("Vector128<float> g01 = Vector128.ConditionalSelect(Vector128.Equals(won, Vector128.Create(1)).AsSingle(), g, Vector128<float>.Zero);");
                w.Line($"Vector128<float> g10 = Vector128.ConditionalSelect(Vector128.Equals(won, Vector128.Create({W})).AsSingle(), g, Vector128<float>.Zero);");
                w.Line($"Vector128<float> g11 = Vector128.ConditionalSelect(Vector128.Equals(won, Vector128.Create({W + 1})).AsSingle(), g, Vector128<float>.Zero);");
                w.Line("System.Runtime.Intrinsics.X86.Sse.UnpackLow(g00, g01).StoreUnsafe(ref d0, (nuint)(2 * ow));");
                w.Line("System.Runtime.Intrinsics.X86.Sse.UnpackHigh(g00, g01).StoreUnsafe(ref d0, (nuint)(2 * ow + 4));");
                w.Line("System.Runtime.Intrinsics.X86.Sse.UnpackLow(g10, g11).StoreUnsafe(ref d1, (nuint)(2 * ow));");
                w.Line("System.Runtime.Intrinsics.X86.Sse.UnpackHigh(g10, g11).StoreUnsafe(ref d1, (nuint)(2 * ow + 4));");
                w.Close();
                w.Close();
            }
            w.Open($"for (; ow < {OW}; ow++)");
            w.Line("int won = Unsafe.Add(ref ar, ow) - (top + 2 * ow);");
            w.Line(relu ? "float g = Unsafe.Add(ref yr, ow) > 0f ? Unsafe.Add(ref gr, ow) : 0f; // the ReLU's mask" : "float g = Unsafe.Add(ref gr, ow);");
            w.Line("Unsafe.Add(ref d0, 2 * ow) = won == 0 ? g : 0f;");
            w.Line("Unsafe.Add(ref d0, 2 * ow + 1) = won == 1 ? g : 0f;");
            w.Line($"Unsafe.Add(ref d1, 2 * ow) = won == {W} ? g : 0f;");
            w.Line($"Unsafe.Add(ref d1, 2 * ow + 1) = won == {W + 1} ? g : 0f;");
            w.Close();
            w.Close();
            w.Close();
        }

        public string MaxPoolBackward(CheckedLayer l)
        {
            string name = PoolName(l, "MaxPool") + "_Backward";
            return Use(name, l.Name, $"MaxPool2D backward {Chw(l.Output)} -> {Chw(l.Input)}: each output gradient goes to the input that won the forward max.", w =>
            {
                w.Open($"private static void {name}(ref float argmax, ref float dy, ref float dx, int batch)");
                if (IsPairPool(l))
                {
                    EmitMaxPoolPairsBackward(w, l);
                    w.Close();
                    return;
                }
                EmitMaxPoolScatterBackward(w, l);
                w.Close();
            });
        }

        /// <summary>The backward of any max pool: dx cleared, then each output gradient added at its window's winner
        /// (windows may overlap); with <paramref name="relu"/> only where the pooled value is positive (the fused ReLU's mask).</summary>
        private static void EmitMaxPoolScatterBackward(CodeWriter w, CheckedLayer l, bool relu = false)
        {
            int OHW = l.Output.H * l.Output.W, HW = l.Input.H * l.Input.W;
            w.Line($"MemoryMarshal.CreateSpan(ref dx, batch * {l.Input.Size}).Clear();");
            w.Open($"for (int plane = 0; plane < batch * {l.Input.C}; plane++)");
            w.Line($"ref float dxp = ref Unsafe.Add(ref dx, (nint)plane * {HW});");
            w.Line($"ref float dyp = ref Unsafe.Add(ref dy, (nint)plane * {OHW});");
            if (relu) w.Line($"ref float yp = ref Unsafe.Add(ref y, (nint)plane * {OHW});");
            w.Line($"ref int ap = ref Unsafe.As<float, int>(ref Unsafe.Add(ref argmax, (nint)plane * {OHW}));");
            w.Line(relu
                ? $"for (int o = 0; o < {OHW}; o++) if (Unsafe.Add(ref yp, o) > 0f) Unsafe.Add(ref dxp, Unsafe.Add(ref ap, o)) += Unsafe.Add(ref dyp, o); // the ReLU's mask"
                : $"for (int o = 0; o < {OHW}; o++) Unsafe.Add(ref dxp, Unsafe.Add(ref ap, o)) += Unsafe.Add(ref dyp, o);");
            w.Close();
        }

        /// <summary>Backward of ReLU -> max pool in one pass: dx = dy at the window's winner when the pooled value (the
        /// rectified winner) is positive, else 0: what the pool's backward and then the ReLU's would write, without the
        /// full-size intermediate gradient. Windows that overlap (ResNet's 3x3/2 stem pool) add into a cleared dx.</summary>
        public string MaxPoolReluBackward(CheckedLayer l)
        {
            string name = PoolName(l, "MaxPool") + "_ReluBackward";
            return Use(name, l.Name, $"Backward of ReLU -> MaxPool2D {Chw(l.Output)} -> {Chw(l.Input)} in one pass: each output gradient goes to the input that won the forward max, masked by the ReLU (pooled value > 0).", w =>
            {
                w.Open($"private static void {name}(ref float argmax, ref float y, ref float dy, ref float dx, int batch)");
                if (IsPairPool(l)) EmitMaxPoolPairsBackward(w, l, relu: true);
                else EmitMaxPoolScatterBackward(w, l, relu: true);
                w.Close();
            });
        }

        public string AvgPoolForward(CheckedLayer l)
        {
            string name = PoolName(l, "AvgPool") + "_Forward";
            return Use(name, l.Name, $"AvgPool2D {Chw(l.Input)} -> {Chw(l.Output)}, window {l.Kernel}, stride {l.Stride}, padding {l.Padding}: mean over the window, padded cells count as zeros (divisor {(l.CeilMode ? "the window's part inside the padded input (ceil mode)" : I(l.Kernel * l.Kernel))}).", w =>
            {
                w.Open($"private static void {name}(ref float x, ref float y, int batch, int part, int parts)");
                PoolLoops(w, l,
                    b => b.Line("float sum = 0f;"),
                    b => b.Line("sum += Unsafe.Add(ref xp, at);"),
                    b => b.Line($"Unsafe.Add(ref yp, o) = sum * {AvgDivisor(l)};"), team: true);
                w.Close();
            });
        }

        public string AvgPoolBackward(CheckedLayer l)
        {
            string name = PoolName(l, "AvgPool") + "_Backward";
            return Use(name, l.Name, $"AvgPool2D backward {Chw(l.Output)} -> {Chw(l.Input)}: each output gradient is shared equally by its window.", w =>
            {
                w.Open($"private static void {name}(ref float dy, ref float dx, int batch)");
                w.Line($"MemoryMarshal.CreateSpan(ref dx, batch * {l.Input.Size}).Clear();");
                // Same loop nest as the forward, with x/y standing for dx/dy.
                w.Line("ref float x = ref dx;");
                w.Line("ref float y = ref dy;");
                PoolLoops(w, l,
                    b => b.Line($"float share = Unsafe.Add(ref yp, o) * {AvgDivisor(l)};"),
                    b => b.Line("Unsafe.Add(ref xp, at) += share;"),
                    b => { });
                w.Close();
            });
        }

        public string GlobalAvgPoolForward(CheckedLayer l)
        {
            string name = $"GlobalAvgPool_{Chw(l.Input)}_Forward";
            int HW = l.Input.H * l.Input.W;
            return Use(name, l.Name, $"GlobalAvgPool {Chw(l.Input)} -> {l.Output.C}: the mean of each channel's {HW} pixels.", w =>
            {
                w.Open($"private static void {name}(ref float x, ref float y, int batch)");
                w.Open($"for (int plane = 0; plane < batch * {l.Input.C}; plane++)");
                w.Line($"ref float xp = ref Unsafe.Add(ref x, (nint)plane * {HW});");
                w.Line("float sum = 0f;");
                w.Line($"for (int i = 0; i < {HW}; i++) sum += Unsafe.Add(ref xp, i);");
                w.Line($"Unsafe.Add(ref y, plane) = sum * (1f / {HW});");
                w.Close();
                w.Close();
            });
        }

        public string GlobalAvgPoolBackward(CheckedLayer l)
        {
            string name = $"GlobalAvgPool_{Chw(l.Input)}_Backward";
            int HW = l.Input.H * l.Input.W;
            return Use(name, l.Name, $"GlobalAvgPool backward {l.Output.C} -> {Chw(l.Input)}: dx = dy / {HW} on every pixel.", w =>
            {
                w.Open($"private static void {name}(ref float dy, ref float dx, int batch)");
                w.Open($"for (int plane = 0; plane < batch * {l.Input.C}; plane++)");
                w.Line($"MemoryMarshal.CreateSpan(ref Unsafe.Add(ref dx, (nint)plane * {HW}), {HW}).Fill(Unsafe.Add(ref dy, plane) * (1f / {HW}));");
                w.Close();
                w.Close();
            });
        }
    }
}
