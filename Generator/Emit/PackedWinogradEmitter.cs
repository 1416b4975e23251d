// Winograd F(2x2, 3x3) (Lavin & Gray 2015) for the inference forward of the packed convs that are 3x3, stride 1, pad 1
// (MemoryPlanner.IsPackedWinograd: maps too small for F(4x4, 3x3), with more output channels than twice the pixels:
// ResNet's 7 x 7 stage at batch 1). Per image:
//   1. each input plane, zero padded, with each row's columns split into two phases (padded column 2q + p at [p][q]), so
//      that column j of four neighbouring 4x4 tiles (tile stride 2) is one Vector128; then V^T[xi][t][c] = (B^T d B)[xi]
//      for every tile t, four tiles side by side: B^T d row by row first (every padded row once), then down the columns;
//   2. 16 GEMMs C^T[xi] [tiles x Cout] = V^T[xi] [tiles x Cin] * U^T[xi] [Cin x Cout] with the output channels as vectors,
//      U^T read in strips packed once per weight change (WeightPacking.PackWinogradStrips);
//   3. Y^T[p][m] = (A^T M A)[p] + bias[m] for every tile, one vector of output channels at a time, then y[m][p] = Y^T[p][m].
// 16 multiplications per tile (4 outputs) and channel pair instead of 36: on 7 x 7, 16 tiles x 16 against 49 x 9, 1.7x
// fewer. The tiles of a row are rounded up to whole groups of four (their columns read zero padding; their outputs are
// not written). A team splits the output channels (steps 2-3: each worker reads only its share of U); every worker
// transforms the whole input (step 1 is small next to the GEMMs: no barrier, nothing read across cores).
using System;
using CnnGen.Generator.Model;
using CnnGen.Generator.Plan;

namespace CnnGen.Generator.Emit
{
    internal sealed partial class KernelEmitter
    {
        /// <summary>The packed Winograd forward's stack scratch, declared once at the top of the kernel (not per image): the
        /// padded input plane in its two column phases, and the row transforms.</summary>
        private static void DeclarePackedWinogradScratch(CodeWriter w, CheckedLayer l)
        {
            var (TH, _, TW4) = MemoryPlanner.PackedWinogradTiles(l);
            int RP = 2 * TH + 2, QW = TW4 + 1, groups = TW4 / 4;
            w.Line($"Span<float> phaseSpan = stackalloc float[{2 * RP * QW}]; // packed Winograd: [2 phases][{RP} padded rows][{QW}], padded column 2q + p at [p][q]");
            w.Line("ref float ph = ref MemoryMarshal.GetReference(phaseSpan);");
            w.Line("phaseSpan.Clear(); // the padding stays zero: every channel rewrites the same interior");
            w.Line($"Span<Vector128<float>> rowSpan = stackalloc Vector128<float>[{RP * 4 * groups}]; // B^T d along each padded row: [{RP} rows][4][{groups} groups of 4 tiles]");
            w.Line("ref Vector128<float> rt = ref MemoryMarshal.GetReference(rowSpan);");
        }

        /// <summary>The body of a packed Winograd conv's inference forward for image n (inside ConvForward's packed branch: xn,
        /// yn, col, packedWeights, bias, part, parts and the scratch of <see cref="DeclarePackedWinogradScratch"/> in scope).</summary>
        private static void EmitPackedWinograd(CodeWriter w, CheckedLayer l, IsaTarget isa)
        {
            int C = l.Input.C, M = l.Output.C, H = l.Output.H, W = l.Output.W, HW = H * W;
            var (TH, TW, TW4) = MemoryPlanner.PackedWinogradTiles(l);
            int T = TH * TW4, RP = 2 * TH + 2, QW = TW4 + 1, groups = TW4 / 4, NR = GemmEmitter.PanelWidth(isa), strips = M / NR;
            // the 16 matrices of V^T and of C^T an odd number of cache lines apart (the transforms touch all 16 at once: 32 KiB
            // apart they fell into one L1 set), and the transposed output's rows likewise
            long VS = MemoryPlanner.WinogradMatrixStride((long)T * C), MS = MemoryPlanner.WinogradMatrixStride((long)T * M);
            long VL = 16 * VS, ML = 16 * MS, YS = MemoryPlanner.PackedWinogradRowStride(l);
            string V = isa.Vec;
            int VW = isa.Width;
            w.Line($"// Winograd F(2x2, 3x3): {TH} x {TW} tiles of 2 x 2 outputs{(TW4 > TW ? $" (rows rounded up to {TW4} tiles)" : "")}; 16 GEMMs C^T [{T} tiles x {M}] =");
            w.Line($"// V^T [{T} x {C}] * U^T [{C} x {M}] (KernelEmitter.EmitPackedWinograd); each worker takes its own {NR}-channel strips");
            w.Line($"int jBegin = part * {strips} / parts * {NR}, jEnd = (part + 1) * {strips} / parts * {NR};");
            w.Line("if (jBegin >= jEnd) continue;");
            w.Line($"ref float vt = ref col; // V^T: 16 matrices [{T} tiles x {C}] ({VS} floats apart), tile t of channel c at c * {T} + t");
            w.Line($"ref float mt = ref Unsafe.Add(ref col, {VL}); // C^T: 16 matrices [{T} tiles x {M}] ({MS} floats apart)");
            w.Line($"ref float yt = ref Unsafe.Add(ref col, {VL + ML}); // Y^T [{HW} pixels x {M}], rows {YS} floats apart");
            w.Line($"// 1. V^T[xi][t][c] = (B^T d B)[xi], B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]");
            w.Open($"for (int c = 0; c < {C}; c++)");
            w.Line($"ref float xc = ref Unsafe.Add(ref xn, c * {HW});");
            w.Open($"for (int h = 0; h < {H}; h++)");
            w.Line($"ref float src = ref Unsafe.Add(ref xc, h * {W});");
            w.Line($"ref float even = ref Unsafe.Add(ref ph, (h + 1) * {QW}); // padded columns 0, 2, 4, ...: input columns 1, 3, ...");
            w.Line($"ref float odd = ref Unsafe.Add(ref ph, {RP * QW} + (h + 1) * {QW}); // padded columns 1, 3, ...: input columns 0, 2, ...");
            w.Line($"for (int q = 0; 2 * q < {W}; q++) Unsafe.Add(ref odd, q) = Unsafe.Add(ref src, 2 * q);");
            w.Line($"for (int q = 0; 2 * q + 1 < {W}; q++) Unsafe.Add(ref even, q + 1) = Unsafe.Add(ref src, 2 * q + 1);");
            w.Close();
            w.Open($"for (int r = 0; r < {RP}; r++)");
            w.Line($"ref float even = ref Unsafe.Add(ref ph, r * {QW});");
            w.Line($"ref float odd = ref Unsafe.Add(ref ph, {RP * QW} + r * {QW});");
            w.Open($"for (int g = 0; g < {groups}; g++)");
            w.Line("// tile columns 4g .. 4g + 3 read padded columns 2t .. 2t + 3: even[t], odd[t], even[t + 1], odd[t + 1]");
            w.Line("Vector128<float> d0 = Vector128.LoadUnsafe(ref even, (nuint)(4 * g)), d1 = Vector128.LoadUnsafe(ref odd, (nuint)(4 * g));");
            w.Line("Vector128<float> d2 = Vector128.LoadUnsafe(ref even, (nuint)(4 * g + 1)), d3 = Vector128.LoadUnsafe(ref odd, (nuint)(4 * g + 1));");
            w.Line($"ref Vector128<float> rr = ref Unsafe.Add(ref rt, r * {4 * groups} + g);");
            w.Line("rr = d0 - d2;");
            w.Line($"Unsafe.Add(ref rr, {groups}) = d1 + d2;");
            w.Line($"Unsafe.Add(ref rr, {2 * groups}) = d2 - d1;");
            w.Line($"Unsafe.Add(ref rr, {3 * groups}) = d1 - d3;");
            w.Close().Close();
            w.Open($"for (int ty = 0; ty < {TH}; ty++)");
            w.Open($"for (int g = 0; g < {groups}; g++)");
            w.Line($"ref float vc = ref Unsafe.Add(ref vt, c * {T} + ty * {TW4} + 4 * g);");
            w.Open("for (int j = 0; j < 4; j++)");
            w.Line($"ref Vector128<float> a = ref Unsafe.Add(ref rt, 2 * ty * {4 * groups} + j * {groups} + g); // padded rows 2ty .. 2ty + 3, column transform j");
            w.Line($"Vector128<float> a0 = a, a1 = Unsafe.Add(ref a, {4 * groups}), a2 = Unsafe.Add(ref a, {8 * groups}), a3 = Unsafe.Add(ref a, {12 * groups});");
            w.Line($"(a0 - a2).StoreUnsafe(ref vc, (nuint)(j * {VS}));");
            w.Line($"(a1 + a2).StoreUnsafe(ref vc, (nuint)((4 + j) * {VS}));");
            w.Line($"(a2 - a1).StoreUnsafe(ref vc, (nuint)((8 + j) * {VS}));");
            w.Line($"(a1 - a3).StoreUnsafe(ref vc, (nuint)((12 + j) * {VS}));");
            w.Close().Close().Close();
            w.Close(); // channels
            w.Line($"// 2. C^T[xi] = V^T[xi] * U^T[xi] on this worker's strips of output channels");
            w.Open("for (int xi = 0; xi < 16; xi++)");
            w.Line($"ref float ve = ref Unsafe.Add(ref vt, xi * {VS});");
            w.Line($"ref float ue = ref Unsafe.Add(ref packedWeights, xi * {(long)C * M});");
            w.Line($"ref float me = ref Unsafe.Add(ref mt, xi * {MS});");
            GemmEmitter.Emit(w, new BroadcastGemm
            {
                Name = "WinogradPacked", Rows = I(T), RowsConst = T, N = M, T = I(C), TConst = C,
                A = "ve", LdAr = 1, LdAt = T,
                B = "ue", BPrepacked = true, C = "me", LdC = M, ColumnRange = true,
                // as the direct packed forward: the tiles' depth block and the strip's stay in L1
                DepthLimit = 6144 / (T + NR), FitRows = true,
            }, isa);
            w.Close();
            w.Line($"// 3. Y^T = A^T M A{(l.Bias ? " + bias" : "")}, A^T = [1 1 1 0; 0 1 -1 -1], {VW} output channels at a time; then y[m][p] = Y^T[p][m]");
            w.Open($"for (int ty = 0; ty < {TH}; ty++)");
            w.Open($"for (int tx = 0; tx < {TW}; tx++)");
            w.Line($"ref float mtile = ref Unsafe.Add(ref mt, (ty * {TW4} + tx) * {M});");
            w.Line($"ref float ytile = ref Unsafe.Add(ref yt, (2 * ty * {W} + 2 * tx) * {YS});");
            w.Line($"bool right = 2 * tx + 1 < {W}, below = 2 * ty + 1 < {H}; // the tile's second column and row are inside the map");
            w.Open($"for (int m = jBegin; m < jEnd; m += {VW})");
            for (int i = 0; i < 4; i++)
                w.Line($"{V}<float> m{i}0 = {V}.LoadUnsafe(ref mtile, (nuint)({4 * i * MS} + m)), m{i}1 = {V}.LoadUnsafe(ref mtile, (nuint)({(4 * i + 1) * MS} + m)), " +
                       $"m{i}2 = {V}.LoadUnsafe(ref mtile, (nuint)({(4 * i + 2) * MS} + m)), m{i}3 = {V}.LoadUnsafe(ref mtile, (nuint)({(4 * i + 3) * MS} + m));");
            w.Line($"{V}<float> s00 = m00 + m10 + m20, s01 = m01 + m11 + m21, s02 = m02 + m12 + m22, s03 = m03 + m13 + m23; // A^T M: row 0");
            w.Line($"{V}<float> s10 = m10 - m20 - m30, s11 = m11 - m21 - m31, s12 = m12 - m22 - m32, s13 = m13 - m23 - m33; // row 1");
            w.Line(l.Bias ? $"{V}<float> b = {V}.LoadUnsafe(ref bias, (nuint)m);" : $"{V}<float> b = {V}<float>.Zero;");
            w.Line("(s00 + s01 + s02 + b).StoreUnsafe(ref ytile, (nuint)m);");
            w.Line($"if (right) (s01 - s02 - s03 + b).StoreUnsafe(ref ytile, (nuint)({YS} + m));");
            w.Line($"if (below) (s10 + s11 + s12 + b).StoreUnsafe(ref ytile, (nuint)({W * YS} + m));");
            w.Line($"if (right && below) (s11 - s12 - s13 + b).StoreUnsafe(ref ytile, (nuint)({(W + 1) * YS} + m));");
            w.Close().Close().Close();
            w.Open("for (int m = jBegin; m < jEnd; m++)");
            w.Line($"ref float ym = ref Unsafe.Add(ref yn, m * {HW});");
            w.Line("ref float cm = ref Unsafe.Add(ref yt, m);");
            w.Line($"for (int p = 0; p < {HW}; p++) Unsafe.Add(ref ym, p) = Unsafe.Add(ref cm, p * {YS});");
            w.Close();
        }
    }
}
