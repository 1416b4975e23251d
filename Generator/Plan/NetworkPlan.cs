// Plan: CheckedNetwork -> NetworkPlan. Decides where every tensor lives: parameter offsets in one parameter arena,
// BatchNorm running statistics in a buffer arena, every node's output in the activation arena (per image; scaled by
// maxBatch at run time; kept for backward), gradients in a gradient arena where slots are reused by lifetime (a
// gradient lives from the backward of its tensor's last consumer to the backward of its producer), one im2col
// workspace shared by all convolutions, and the folded weights of every conv -> BatchNorm pair for inference.
using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Plan
{
    internal enum Init { Zero, He, Glorot, One }

    /// <summary>A learnable tensor (or a BatchNorm buffer): PyTorch name and shape, offset in its arena, initialiser.</summary>
    internal sealed record ParameterPlan(string Name, EquatableArray<int> Shape, long Offset, long Length, int FanIn, int FanOut, Init Init);

    /// <summary>Where one node reads and writes. Activation offsets are per image (multiply by maxBatch); gradient offsets
    /// are per image of a worker's slice (multiply by its image count); -1 = none.</summary>
    internal sealed record LayerPlan(
        CheckedLayer Layer,
        EquatableArray<long> InputOffsets,
        long OutputOffset,
        long AuxOffset,
        int WeightIndex,
        int BiasIndex,
        int MeanIndex,
        int VarIndex,
        long StatsOffset,
        long GradientOffset,
        /// <summary>Where each input's gradient goes in the gradient arena; -1 for the network input, whose gradient has its
        /// own batch-major buffer (so that Backward can hand it out whole, without a copy).</summary>
        EquatableArray<long> InputGradientOffsets,
        EquatableArray<bool> InputGradientAccumulates,
        int FoldIndex,
        bool FoldedIntoPrevious)
    {
        public long InputOffset => InputOffsets.Count > 0 ? InputOffsets[0] : 0;
        /// <summary>A ReLU whose only consumer is a max pool: its backward
        /// runs inside the pool's, which writes this ReLU's input gradient directly; its forward too (the pool takes max(0, window
        /// max) of this ReLU's input), so its output is written only when LayerOutput asks for it.</summary>
        public bool BackwardInNextPool { get; init; }
        /// <summary>A max pool after such a ReLU: its backward also applies the ReLU's mask (the pooled value is the
        /// rectified winner, so the mask is pooled &gt; 0) and writes the ReLU's input gradient.</summary>
        public bool BackwardAppliesRelu { get; init; }
        /// <summary>Index into <see cref="NetworkPlan.Winograds"/>, or -1: the conv's forward and input gradient run as Winograd F(4x4, 3x3).</summary>
        public int WinogradIndex { get; init; } = -1;
        /// <summary>Index into <see cref="NetworkPlan.Packs"/>, or -1: the conv's inference forward reads packed weights.</summary>
        public int PackIndex { get; init; } = -1;
        /// <summary>The main output: its gradient is not a slot of the gradient arena but its own batch-major buffer, which
        /// callers fill in place before Backward.</summary>
        public bool GradientInOutputBuffer { get; init; }
    }

    /// <summary>A conv that runs as Winograd F(4x4, 3x3) (<see cref="MemoryPlanner.IsWinograd"/>): offsets in the Winograd
    /// arena of its transformed weights for the forward, for the input gradient (filters transposed and rotated), and for
    /// the forward with its BatchNorm folded in (-1 when it has none).</summary>
    internal sealed record WinogradPlan(int Conv, long ForwardOffset, long BackwardOffset, long FoldedOffset);

    /// <summary>A conv whose inference forward reads its weights packed as strips of W^T (<see cref="MemoryPlanner.IsPackedForward"/>):
    /// offsets in the transformed-weight arena (shared with Winograd) of its packed weights, or -1 when it has a BatchNorm to
    /// fold (then only the folded inference reads packed weights: the unfolded forward, which backward reruns, reads them
    /// unpacked, so the arena holds one copy), and of its packed folded weights (-1 when it has no BatchNorm to fold).</summary>
    internal sealed record PackedPlan(int Conv, long Offset, long FoldedOffset);

    /// <summary>A conv whose output feeds only a BatchNorm: in inference the pair runs as one conv with folded weights.</summary>
    internal sealed record FoldPlan(int Conv, int BatchNorm, long WeightOffset, long BiasOffset);

    internal sealed record NetworkPlan(
        CheckedNetwork Network,
        EquatableArray<LayerPlan> Layers,
        EquatableArray<ParameterPlan> Parameters,
        EquatableArray<ParameterPlan> Buffers,
        EquatableArray<FoldPlan> Folds,
        long ParameterArenaLength,
        long BufferArenaLength,
        long FoldArenaLength,
        long ActivationsPerImage,
        long GradientPerImage,
        long WorkspaceLength,
        long StatsLength,
        long ParameterCount,
        long FlopsPerImage)
    {
        public bool EndsWithSoftmax => Network.EndsWithSoftmax;
        /// <summary>The node whose output is the main logits (the last before Softmax, or the last).</summary>
        public int LogitsLayer => Network.Heads[0].Logits;
        public int OutputLayer => Network.Heads[0].Output;
        public bool HasBatchNorm => Layers.Any(l => l.Layer.Kind == LayerKind.BatchNorm);
        /// <summary>Gradient slot where a consumer that adds to an already written gradient writes first.</summary>
        public long ScratchGradientOffset { get; init; }
        /// <summary>The Winograd convs and the transformed-weight arena they share.</summary>
        public EquatableArray<WinogradPlan> Winograds { get; init; } = EquatableArray<WinogradPlan>.Empty;
        public long WinogradArenaLength { get; init; }
        /// <summary>The convs with packed inference weights (in the same arena as the Winograd weights).</summary>
        public EquatableArray<PackedPlan> Packs { get; init; } = EquatableArray<PackedPlan>.Empty;
    }

    internal static class MemoryPlanner
    {
        /// <summary>The classic 2x2 max/avg window with stride 2 and no padding whose windows tile the input (none hangs
        /// over an edge; an odd last row or column belongs to no window).</summary>
        public static bool IsPairPool(CheckedLayer l) =>
            l.Kind == LayerKind.MaxPool2D && l.Kernel == 2 && l.Stride == 2 && l.Padding == 0 && l.Output.H == l.Input.H / 2 && l.Output.W == l.Input.W / 2;

        /// <summary>Every buffer starts on a 64-byte boundary (16 floats).</summary>
        public const int Align = 16;

        public static long RoundUp(long n) => (n + Align - 1) / Align * Align;

        /// <summary>Conv layers that read their input directly (1x1, stride 1, no padding) need no im2col.</summary>
        /// <summary>Images per GEMM for a conv with a small output map: the columns of that many whole images side by side,
        /// so the 16- and 32-column register strips are nearly full (ResNet's 7x7 maps are 49 columns: 77% of 64; five
        /// images, 245 of 256) and the weight gradient sums over more than one small image per pass. 1 = per image.
        /// Only ungrouped im2col convs whose image is one pixel block; at most 256 columns.</summary>
        public static int ImageGroup(CheckedLayer l)
        {
            if (l.Kind != LayerKind.Conv2D || l.Groups != 1 || IsDirectConv(l)) return 1;
            int n = l.Output.H * l.Output.W;
            if (n > 128 || PixelBlock(l) < n) return 1;
            double Util(int g) => StripFill(g * n);
            int best = 1, small = 1;
            for (int g = 2; g <= 8 && g * n <= 256; g++)
            {
                if (Util(g) > Util(best) + 0.005) best = g;
                if (g <= 4 && Util(g) >= Util(small) - 0.02) small = g; // the larger when about as full: divides more slices
            }
            // up to 4 when nearly as good: a worker's slice of a small training batch (8 images on 2 workers) fills it
            if (best > 4 && Util(small) >= Util(best) - 0.05) best = small;
            return Util(best) >= Util(1) + 0.05 ? best : 1;
        }

        public static bool IsDirectConv(CheckedLayer l) => l.Kernel == 1 && l.Stride == 1 && l.Padding == 0;

        /// <summary>The im2col weight gradient of an image runs as one block of all its output pixels instead of L2-sized
        /// pixel blocks when reloading and storing dW (Cout x Cin*k*k per group) once per further block would move more
        /// data than the image's columns (Cin*k*k x pixels) going through L3 once: ResNet's 256 x 14 x 14 convs split
        /// 196 pixels into 4 blocks, a GEMM depth of 64 per 2.4 MB pass over dW. The whole image's columns fit the
        /// workspace, which always holds Cin*k*k x pixels.</summary>
        public static bool WholeImageWeightGradient(CheckedLayer l)
        {
            if (l.Kind != LayerKind.Conv2D || IsDirectConv(l)) return false;
            int n = l.Output.H * l.Output.W, block = PixelBlock(l);
            if (block >= n) return false;
            long blocks = (n + block - 1) / block;
            return (blocks - 1) * (l.Output.C / l.Groups) > n;
        }

        /// <summary>Output pixels per im2col block: the block's columns (Cin*k*k rows) stay within about 256 KiB, so im2col,
        /// the GEMM's packing and col2im work in L2 instead of streaming a multi-megabyte column matrix through memory.</summary>
        public static int PixelBlock(CheckedLayer l)
        {
            int rows = l.Input.C * l.Kernel * l.Kernel, N = l.Output.H * l.Output.W;
            if ((long)rows * N <= 98304) return N;
            int max = Math.Max(64, 65536 / Math.Max(1, rows) / 16 * 16);
            if (N <= max) return N;
            // whole output rows when a whole number of them (at least three quarters of the limit) is also whole vectors:
            // im2col and col2im then take their unrolled row path for every row, not the general walk for the two rows a
            // block boundary cuts (ResNet's 7 x 7 stem: 3 rows of 112 instead of 432 pixels)
            int ow = l.Output.W, wholeRows = max / ow;
            while (wholeRows > 0 && wholeRows * ow % 16 != 0) wholeRows--;
            if (wholeRows > 0 && wholeRows * ow * 4 >= max * 3) return wholeRows * ow;
            int blocks = (N + max - 1) / max;
            return ((N + blocks - 1) / blocks + 15) / 16 * 16;
        }

        /// <summary>How full the 16- and 32-column register strips of a GEMM with <paramref name="columns"/> columns are
        /// (the mean of both widths: AVX2 and AVX-512 kernels).</summary>
        public static double StripFill(int columns)
        {
            static double Fill(int c, int width) => c / (double)((c + width - 1) / width * width);
            return (Fill(columns, 16) + Fill(columns, 32)) / 2;
        }

        /// <summary>The im2col weight gradient computes dW^T = col * dy^T (then adds it to dW) when the columns have more rows
        /// than dy (Cin*k*k per group > Cout per group) and Cout fills the register strips at least as well as Cin*k*k:
        /// the GEMM's transposed packing then copies dy's rows instead of the larger column matrix (the 7x7 stem: 64 rows
        /// instead of 147, and 64 columns fill the strips where 147 leave a ragged edge). dW^T (Cin*k*k x Cout per group)
        /// lives in the backward's second workspace half. Only while dW^T stays within 128 KiB: the swapped GEMM re-reads
        /// its A operand (the column block) once per 16 or 32 output channels, and loads and stores all of dW^T per block,
        /// which made ResNet's 256 x 14 x 14 weight gradient (dW^T 2.4 MB) 1.6x slower. Convs whose Cout exceeds their
        /// output pixels and that run in image groups keep dW = dy * col^T rather than growing the workspace for the odd
        /// images at the end of a batch.</summary>
        public static bool IsWeightGradientTransposed(CheckedLayer l)
        {
            if (l.Kind != LayerKind.Conv2D) return false;
            int mg = l.Output.C / l.Groups, kg = l.Input.C / l.Groups * l.Kernel * l.Kernel;
            return kg > mg && (long)kg * mg <= 32768 && StripFill(mg) >= StripFill(kg) && (mg <= l.Output.H * l.Output.W || ImageGroup(l) == 1);
        }

        /// <summary>The im2col weight gradient reads its columns straight from shifted copies of the input planes instead of
        /// an im2col matrix (an implicit im2col): for a stride-1 "same" conv, column (c, kh, kw) of output pixel t is
        /// element t + kh * W + kw of plane c's copy for kw, whose rows are padded above and below and whose wrapping columns
        /// are zero (<see cref="ShiftedPlaneLength"/>). K copies of the input are a third of the K * K of im2col (3 x 3), and the
        /// transposing pack that follows reads them as it read the columns. Ungrouped convs whose weight gradient takes a
        /// whole image per GEMM, one image at a time (maps of at least 16 pixels, one AVX-512 vector: smaller ones run in
        /// image groups): the seed net's 36 -> 72 layer (14 x 14), whose im2col was a tenth of its weight gradient. Among these,
        /// the layers <see cref="IsChannelsLastWeightGradient"/> takes (the seed net's 36 -> 72 since stop 23) read a
        /// channels-last copy instead; this predicate is their eligibility too.</summary>
        public static bool IsShiftedPlaneWeightGradient(CheckedLayer l) =>
            l.Kind == LayerKind.Conv2D && !IsDirectConv(l) && l.Stride == 1 && l.Groups == 1
            && l.Output.H == l.Input.H && l.Output.W == l.Input.W && l.Kernel <= l.Input.W && l.Input.H * l.Input.W >= 16
            && !IsWinogradWeightGradient(l) && !IsWeightGradientTransposed(l) && ImageGroup(l) == 1
            && (PixelBlock(l) >= l.Output.H * l.Output.W || WholeImageWeightGradient(l));

        /// <summary>A stride-1 "same" conv that would read shifted planes (<see cref="IsShiftedPlaneWeightGradient"/>) takes its
        /// weight gradient from the input in channels-last layout instead when a kernel row's taps over all input channels
        /// (K x Cin floats, contiguous in that layout) fill whole vectors well: the GEMM then reads B in place, row t of the
        /// columns for kernel row kh being the K x Cin floats at output pixel t's window row, so nothing is packed. The
        /// seed net's 36 -> 72 layer: 108 of 112 lanes; packing its 324 x 196 columns per image and building the shifted
        /// planes took 14% of its weight gradient, the transpose to channels-last takes 2-3%. Rows shorter than 48 floats
        /// (the seed net's first conv, 1 channel) or filling under 85% of their vectors keep the shifted planes.</summary>
        public static bool IsChannelsLastWeightGradient(CheckedLayer l)
        {
            if (!IsShiftedPlaneWeightGradient(l)) return false;
            int row = l.Kernel * l.Input.C;
            return row >= 48 && row >= 0.85 * ChannelsLastRowLength(l);
        }

        /// <summary>Columns of one kernel row in the channels-last weight gradient: K x Cin taps rounded up to 16 floats (an
        /// AVX-512 vector, so two AVX2 and four SSE vectors); the extra lanes read the next pixel's first channels and their
        /// sums are never used.</summary>
        public static int ChannelsLastRowLength(CheckedLayer l) => (l.Kernel * l.Input.C + 15) / 16 * 16;

        /// <summary>Floats of one image in the channels-last weight gradient's zero-padded layout ((H + K - 1) x (W + K - 1)
        /// pixels of Cin floats), and the extra lanes the last pixel's last kernel row reads past it.</summary>
        public static long ChannelsLastImageLength(CheckedLayer l) =>
            RoundUp((long)(l.Input.H + l.Kernel - 1) * (l.Input.W + l.Kernel - 1) * l.Input.C + ChannelsLastRowLength(l) - l.Kernel * l.Input.C);

        /// <summary>Workspace of the channels-last weight gradient: the padded image, then dW over the batch with its columns in
        /// (kh, kw, c) order (Cout x K rows of <see cref="ChannelsLastRowLength"/>).</summary>
        public static long ChannelsLastWorkspace(CheckedLayer l) => ChannelsLastImageLength(l) + (long)l.Output.C * l.Kernel * ChannelsLastRowLength(l);

        /// <summary>Floats of one shifted input plane: K - 1 padding rows around the H rows (W floats each) and K - 1 more
        /// floats that the last pixel's taps reach past them, rounded up to whole cache lines. Plane copy kw keeps its element
        /// (r, c) at r * W + c + padding, zero where input row r - padding is outside the image, and zero in the columns
        /// that a tap kw - padding columns to the side reads only from a neighbouring row (the last padding - kw columns, or
        /// the first kw - padding).</summary>
        public static int ShiftedPlaneLength(CheckedLayer l) =>
            (int)RoundUp((long)(l.Input.H + l.Kernel - 1) * l.Input.W + l.Kernel - 1);

        /// <summary>Floats of all shifted planes of one image: K copies of each input channel's plane.</summary>
        public static long ShiftedPlanesLength(CheckedLayer l) => (long)l.Kernel * l.Input.C * ShiftedPlaneLength(l);

        /// <summary>Output pixels per Winograd tile side: F(4x4, 3x3) on 6x6 input tiles.</summary>
        public const int WinogradTile = 4;

        /// <summary>3x3 stride-1 pad-1 ungrouped convs with at least 16 input and output channels and maps of at least 13 x 13
        /// run as Winograd F(4x4, 3x3), forward and input gradient (the input gradient of such a conv is again a 3x3
        /// stride-1 pad-1 conv). The transforms work on 4 tiles side by side, so a map needs 4 tiles per row (13+ pixels);
        /// fewer channels leave the 36 GEMMs too shallow to pay for the transforms.</summary>
        public static bool IsWinograd(CheckedLayer l) =>
            l.Kind == LayerKind.Conv2D && l.Kernel == 3 && l.Stride == 1 && l.Padding == 1 && l.Groups == 1
            && l.Input.C >= 16 && l.Output.C >= 16 && l.Output.H >= 13 && l.Output.W >= 13;

        /// <summary>An ungrouped im2col conv (one pixel block per image; not a Winograd one) with over twice as many output
        /// channels as output pixels, in whole strips of 32: its inference forward computes C^T = col^T * W^T with the output
        /// channels as the vector dimension, from weights packed once per change (WeightPacking.PackStrips). ResNet's 7 x 7
        /// stages: 49 pixels fill 7 register tiles of 7 rows where 49 columns leave a 16-column and a dot-product strip beside
        /// the 32-column one.</summary>
        public static bool IsPackedForward(CheckedLayer l) =>
            l.Kind == LayerKind.Conv2D && l.Groups == 1 && !IsDirectConv(l) && !IsWinograd(l)
            && TeamSplitsRows(l) && l.Output.C % 32 == 0 && PixelBlock(l) == l.Output.H * l.Output.W;

        /// <summary>A packed-forward conv (<see cref="IsPackedForward"/>) that is 3x3, stride 1, padding 1: its inference forward runs
        /// as Winograd F(2x2, 3x3) on 4x4 input tiles (a map too small for F(4x4, 3x3), <see cref="IsWinograd"/>), 16
        /// GEMMs C^T[tiles x Cout] = V^T[tiles x Cin] * U^T[Cin x Cout] with the output channels as vectors, from weights
        /// transformed and packed once per change (WeightPacking.PackWinogradStrips): 1.72x fewer multiplications than the
        /// direct product on ResNet's 7 x 7 stage (16 tiles of 2 x 2 cover the 49 pixels: 16 x 16 products per channel pair
        /// where the direct conv takes 49 x 9), for 16/9 as many weights to stream.</summary>
        public static bool IsPackedWinograd(CheckedLayer l) =>
            IsPackedForward(l) && l.Kernel == 3 && l.Stride == 1 && l.Padding == 1;

        /// <summary>F(2x2, 3x3) tiles of a packed Winograd conv: tile rows, tile columns, and tile columns rounded up to the
        /// transforms' groups of four (the extra tiles read zero padding; their outputs are not written).</summary>
        public static (int Rows, int Columns, int Padded) PackedWinogradTiles(CheckedLayer l)
        {
            int th = (l.Output.H + 1) / 2, tw = (l.Output.W + 1) / 2;
            return (th, tw, (tw + 3) / 4 * 4);
        }

        /// <summary>Transform positions of F(2x2, 3x3): 4 x 4.</summary>
        public const int PackedWinogradPositions = 16;

        /// <summary>Floats of a packed conv's packed inference weights: the strips of W^T (Cout x Cin k k), or for a packed
        /// Winograd conv the 16 matrices of U^T (16 x Cout x Cin).</summary>
        public static long PackedWeightsLength(CheckedLayer l) =>
            (IsPackedWinograd(l) ? PackedWinogradPositions : (long)l.Kernel * l.Kernel) * l.Input.C * l.Output.C;

        /// <summary>Floats of one worker's workspace the packed Winograd forward needs: V^T (16 x [tiles x Cin]) and M^T (16 x
        /// [tiles x Cout]), each matrix <see cref="WinogradMatrixStride"/> from the next (the transforms touch all 16 at once),
        /// and the output transposed, [pixels x Cout] with rows <see cref="PackedWinogradRowStride"/> apart.</summary>
        public static long PackedWinogradWorkspace(CheckedLayer l)
        {
            var (th, _, tw4) = PackedWinogradTiles(l);
            long t = (long)th * tw4;
            return PackedWinogradPositions * (WinogradMatrixStride(t * l.Input.C) + WinogradMatrixStride(t * l.Output.C))
                + (long)l.Output.H * l.Output.W * PackedWinogradRowStride(l);
        }

        /// <summary>Floats from one pixel's row of the packed Winograd forward's transposed output to the next: Cout rounded up to
        /// an odd number of cache lines, so that the copy into the channel-major output, which reads one channel of every
        /// pixel at a time, finds the rows in different L1 sets (512 channels, 2 KiB apart, fell into two).</summary>
        public static long PackedWinogradRowStride(CheckedLayer l) => WinogradMatrixStride(l.Output.C);

        /// <summary>How a team splits this conv's forward: by output channels when there are more than twice as many of them
        /// as output pixels (the weights are much the larger operand, so each worker should read only its share of them:
        /// ResNet's 512 x 7 x 7 stage at batch 1 is bound by streaming its weights), otherwise by output pixels (each
        /// worker builds only its own columns; a row split repeats the im2col in every worker, which cost ResNet's
        /// 256 x 14 x 14 stage a third of its 2-thread speed-up here).</summary>
        public static bool TeamSplitsRows(CheckedLayer l) => l.Output.C > 2 * l.Output.H * l.Output.W;

        /// <summary>Floats of one worker's workspace a Winograd conv from <paramref name="cin"/> to <paramref name="cout"/>
        /// channels on an h x w map (pad 1, so the output is h x w too) needs: the input planes padded and split into the
        /// four column phases, the 36 transformed input matrices [cin x tiles] and the 36 products [cout x tiles].</summary>
        public static long WinogradWorkspace(int cin, int cout, int h, int w)
        {
            var (th, tw) = WinogradTiles(h, w);
            long tiles = (long)th * tw;
            return RoundUp(WinogradPlaneLength(h, w) * cin) + 36 * WinogradMatrixStride(cin * tiles) + 36 * WinogradMatrixStride(cout * tiles);
        }

        /// <summary>Floats from one of the 36 transformed matrices of a Winograd workspace (V, M, G') to the next: the
        /// matrix's <paramref name="floats"/> rounded up to an odd number of cache lines. The tile transforms write (or read)
        /// all 36 at once, a vector each; a power-of-two distance (256 channels x 16 tiles: 16 KiB) maps the 36 lines to one
        /// L1 set, which evicts each line before it is whole. An odd number of lines maps them to 36 different sets.</summary>
        public static long WinogradMatrixStride(long floats)
        {
            long lines = (floats + Align - 1) / Align;
            return (lines | 1) * Align;
        }

        /// <summary>A Winograd conv whose weight gradient runs as Winograd on every kernel set: at least 32 tiles per image
        /// (the depth of its 36 GEMMs), or 16 (a 13-16 pixel map) with at least 128 channels on both sides. Every call clears
        /// and finally transforms dU (36 x cout x cin), which a few images pay for only when the GEMMs are wide: 256 x 14 x 14
        /// (16 tiles) measured 15.6 -> 8.4 ms for 16 images, 0.97 -> 1.16 ms for one. Narrower 16-tile layers take it on the
        /// kernel sets narrower than AVX-512 only (<see cref="IsWinogradWeightGradient(CheckedLayer, int)"/>).</summary>
        public static bool IsWinogradWeightGradient(CheckedLayer l)
        {
            var (th, tw) = WinogradTiles(l.Output.H, l.Output.W);
            return IsWinograd(l) && (th * tw >= 32 || (th * tw >= 16 && l.Input.C >= 128 && l.Output.C >= 128));
        }

        /// <summary>Whether the kernel set of <paramref name="vectorWidth"/> floats runs this conv's weight gradient as
        /// Winograd. On AVX-512 (16) the layers of <see cref="IsWinogradWeightGradient(CheckedLayer)"/>: the seed net's
        /// 36 -> 72 layer (14 x 14, 16 tiles) measured slower as Winograd there (3.0 -> 3.5 ms for 64 images, stop 17) and
        /// takes the channels-last im2col (2.6 ms). On AVX2 and Vector128 every Winograd conv (all have 16 tiles or more): the
        /// transforms run on Vector128 (on maps of fewer than 8 tiles per row, Vector256 above that on the wider sets), so
        /// they cost the narrower sets' GEMMs relatively less, and the seed
        /// layer measured 9.2 -> 5.5 ms (AVX2) and 26 -> 11.3 ms (Vector128) for 64 images, 1 thread (Zen 3, stop 25).</summary>
        public static bool IsWinogradWeightGradient(CheckedLayer l, int vectorWidth) =>
            vectorWidth >= 16 ? IsWinogradWeightGradient(l) : IsWinograd(l);

        /// <summary>Floats of the workspace of a Winograd weight gradient: the input and output-gradient planes in phase
        /// layout, the transforms of a chunk of <see cref="WinogradGradientImages"/> images (36 x [cin x images x tiles],
        /// 36 x [cout x images x tiles]) and the transformed weights' gradient (36 x [cout x cin]).</summary>
        public static long WinogradWeightGradientWorkspace(int cin, int cout, int h, int w)
        {
            var (th, tw) = WinogradTiles(h, w);
            long depth = (long)th * tw * WinogradGradientImages(h, w), plane = WinogradPlaneLength(h, w);
            return RoundUp(plane * cin) + RoundUp(plane * cout) + 36 * WinogradMatrixStride(cin * depth) + 36 * WinogradMatrixStride(cout * depth) + RoundUp(36L * cin * cout);
        }

        /// <summary>Tiles the Winograd weight gradient's GEMMs aim to take at once (their depth): a chunk of images whose
        /// tiles together are about this many (one image when it has more).</summary>
        public const int WinogradGradientDepth = 32;

        /// <summary>Images per worker whose transforms the Winograd weight gradient's 36 GEMMs take at once (their depth is
        /// this many images' tiles): dU is loaded and stored once per chunk, not once per image.</summary>
        public static int WinogradGradientImages(int h, int w)
        {
            var (th, tw) = WinogradTiles(h, w);
            return Math.Max(1, WinogradGradientDepth / (th * tw));
        }

        /// <summary>Tile rows and tiles per row of an h x w output.</summary>
        public static (int Rows, int Columns) WinogradTiles(int h, int w) => ((h + WinogradTile - 1) / WinogradTile, (w + WinogradTile - 1) / WinogradTile);

        /// <summary>Floats of one padded input plane in the phase layout: 4 * tileRows + 2 rows, each four phases of
        /// tilesPerRow + 1 floats (phase p holds padded columns p, p + 4, p + 8, ...).</summary>
        public static long WinogradPlaneLength(int h, int w)
        {
            var (th, tw) = WinogradTiles(h, w);
            return (long)(4 * th + 2) * 4 * (tw + 1);
        }

        public static NetworkPlan Plan(CheckedNetwork network)
        {
            var nodes = network.Layers;
            int count = nodes.Count;

            var parameters = new List<ParameterPlan>();
            var buffers = new List<ParameterPlan>();
            long parameterArena = 0, bufferArena = 0;
            int AddParameter(string name, int[] shape, int fanIn, int fanOut, Init init)
            {
                long length = shape.Aggregate(1L, (a, d) => a * d);
                parameters.Add(new ParameterPlan(name, shape.ToEquatableArray(), parameterArena, length, fanIn, fanOut, init));
                parameterArena += RoundUp(length);
                return parameters.Count - 1;
            }
            int AddBuffer(string name, int length, Init init)
            {
                buffers.Add(new ParameterPlan(name, new[] { length }.ToEquatableArray(), bufferArena, length, 0, 0, init));
                bufferArena += RoundUp(length);
                return buffers.Count - 1;
            }

            // Consumers of every tensor (node index, or -1 for the network input), in execution order.
            var consumers = new Dictionary<int, List<int>>();
            for (int i = -1; i < count; i++) consumers[i] = new List<int>();
            for (int i = 0; i < count; i++)
                foreach (int input in nodes[i].Inputs) consumers[input].Add(i);

            // Activations: every node's output is kept for backward; Flatten is a view of its input.
            long activations = 0;
            long Allocate(long size) { long at = activations; activations += RoundUp(size); return at; }
            var outputOffset = new long[count];
            long inputOffset = Allocate(network.Input.Size);
            long OffsetOf(int node) => node < 0 ? inputOffset : outputOffset[node];

            // Folding: conv -> BatchNorm where the conv's output feeds nothing else.
            var folds = new List<FoldPlan>();
            var foldOf = new int[count];
            var foldedBn = new bool[count];
            for (int i = 0; i < count; i++) foldOf[i] = -1;
            long foldArena = 0;
            for (int i = 0; i < count; i++)
            {
                if (nodes[i].Kind != LayerKind.BatchNorm) continue;
                int p = nodes[i].Inputs[0];
                if (p < 0 || nodes[p].Kind != LayerKind.Conv2D || consumers[p].Count != 1) continue;
                CheckedLayer conv = nodes[p];
                long weightLength = (long)conv.Output.C * (conv.Input.C / conv.Groups) * conv.Kernel * conv.Kernel;
                folds.Add(new FoldPlan(p, i, foldArena, foldArena + RoundUp(weightLength)));
                foldArena += RoundUp(weightLength) + RoundUp(conv.Output.C);
                foldOf[p] = folds.Count - 1;
                foldedBn[i] = true;
            }

            var weightIndex = new int[count];
            var biasIndex = new int[count];
            var meanIndex = new int[count];
            var varIndex = new int[count];
            var auxOffset = new long[count];
            var statsOffset = new long[count];
            long workspace = 0, stats = 0;
            var winograds = new List<WinogradPlan>();
            var winogradOf = Enumerable.Repeat(-1, count).ToArray();
            var packs = new List<PackedPlan>();
            var packOf = Enumerable.Repeat(-1, count).ToArray();
            long winogradArena = 0;
            for (int i = 0; i < count; i++)
            {
                CheckedLayer l = nodes[i];
                weightIndex[i] = biasIndex[i] = meanIndex[i] = varIndex[i] = -1;
                auxOffset[i] = statsOffset[i] = -1;
                switch (l.Kind)
                {
                    case LayerKind.Conv2D:
                    {
                        int cinPerGroup = l.Input.C / l.Groups;
                        int fanIn = cinPerGroup * l.Kernel * l.Kernel;
                        int fanOut = l.Output.C / l.Groups * l.Kernel * l.Kernel;
                        weightIndex[i] = AddParameter(l.Name + ".weight", new[] { l.Output.C, cinPerGroup, l.Kernel, l.Kernel }, fanIn, fanOut, l.FollowedByReLU ? Init.He : Init.Glorot);
                        if (l.Bias) biasIndex[i] = AddParameter(l.Name + ".bias", new[] { l.Output.C }, fanIn, fanOut, Init.Zero);
                        // im2col columns (forward, backward-data) or their transpose (backward-weights; 1x1 convs too)
                        workspace = Math.Max(workspace, (long)l.Input.C * l.Kernel * l.Kernel * l.Output.H * l.Output.W);
                        // dW^T of the transposed weight gradient
                        if (IsWeightGradientTransposed(l)) workspace = Math.Max(workspace, (long)l.Input.C * l.Kernel * l.Kernel * (l.Output.C / l.Groups));
                        // the shifted input planes of an implicit-im2col weight gradient (smaller than the columns but for tiny maps)
                        if (IsShiftedPlaneWeightGradient(l)) workspace = Math.Max(workspace, ShiftedPlanesLength(l));
                        // the channels-last weight gradient's padded image and its dW over the batch
                        if (IsChannelsLastWeightGradient(l)) workspace = Math.Max(workspace, ChannelsLastWorkspace(l));
                        // image groups: the group's columns, then its output (forward) or gathered output gradient (backward)
                        int group = ImageGroup(l);
                        if (group > 1) workspace = Math.Max(workspace, ((long)l.Input.C * l.Kernel * l.Kernel + l.Output.C) * group * l.Output.H * l.Output.W);
                        if (IsWinograd(l))
                        {
                            // the forward and the input gradient (cout -> cin) run in the whole per-worker workspace (2 x columns)
                            long wino = Math.Max(WinogradWorkspace(l.Input.C, l.Output.C, l.Output.H, l.Output.W), WinogradWorkspace(l.Output.C, l.Input.C, l.Input.H, l.Input.W));
                            // and the weight gradient, which every Winograd conv takes on the narrower kernel sets (IsWinogradWeightGradient)
                            wino = Math.Max(wino, WinogradWeightGradientWorkspace(l.Input.C, l.Output.C, l.Output.H, l.Output.W));
                            workspace = Math.Max(workspace, (wino + 1) / 2);
                            long length = RoundUp(36L * l.Input.C * l.Output.C);
                            bool folded = foldOf[i] >= 0;
                            winograds.Add(new WinogradPlan(i, winogradArena, winogradArena + length, folded ? winogradArena + 2 * length : -1));
                            winogradOf[i] = winograds.Count - 1;
                            winogradArena += (folded ? 3 : 2) * length;
                        }
                        if (IsPackedForward(l))
                        {
                            // the columns, then C^T [pixels x output channels]
                            long kg = (long)l.Input.C * l.Kernel * l.Kernel, n = (long)l.Output.H * l.Output.W;
                            workspace = Math.Max(workspace, (kg + l.Output.C) * n);
                            // F(2x2, 3x3): V^T, M^T and the transposed output, in the whole per-worker workspace (2 x columns)
                            if (IsPackedWinograd(l)) workspace = Math.Max(workspace, (PackedWinogradWorkspace(l) + 1) / 2);
                            long length = RoundUp(PackedWeightsLength(l));
                            bool folded = foldOf[i] >= 0;
                            packs.Add(folded ? new PackedPlan(i, -1, winogradArena) : new PackedPlan(i, winogradArena, -1));
                            packOf[i] = packs.Count - 1;
                            winogradArena += length;
                        }
                        outputOffset[i] = Allocate(l.Output.Size);
                        break;
                    }
                    case LayerKind.Dense:
                        weightIndex[i] = AddParameter(l.Name + ".weight", new[] { l.Output.C, l.Input.C }, l.Input.C, l.Output.C, l.FollowedByReLU ? Init.He : Init.Glorot);
                        if (l.Bias) biasIndex[i] = AddParameter(l.Name + ".bias", new[] { l.Output.C }, l.Input.C, l.Output.C, Init.Zero);
                        outputOffset[i] = Allocate(l.Output.Size);
                        break;
                    case LayerKind.BatchNorm:
                        weightIndex[i] = AddParameter(l.Name + ".weight", new[] { l.Output.C }, 0, 0, Init.One);
                        biasIndex[i] = AddParameter(l.Name + ".bias", new[] { l.Output.C }, 0, 0, Init.Zero);
                        meanIndex[i] = AddBuffer(l.Name + ".running_mean", l.Output.C, Init.Zero);
                        varIndex[i] = AddBuffer(l.Name + ".running_var", l.Output.C, Init.One);
                        statsOffset[i] = stats; // batch mean and 1/std of the last training forward
                        stats += RoundUp(2L * l.Output.C);
                        outputOffset[i] = Allocate(l.Output.Size);
                        break;
                    case LayerKind.MaxPool2D:
                        outputOffset[i] = Allocate(l.Output.Size);
                        auxOffset[i] = Allocate(l.Output.Size); // argmax per output, as int bits
                        break;
                    case LayerKind.Dropout:
                        outputOffset[i] = Allocate(l.Output.Size);
                        auxOffset[i] = Allocate(l.Output.Size); // the scaled keep-mask of the last training forward
                        break;
                    case LayerKind.LocalResponseNorm:
                        outputOffset[i] = Allocate(l.Output.Size);
                        auxOffset[i] = Allocate(l.Output.Size); // the denominator base s = k + alpha/size * sum x^2, for backward
                        break;
                    case LayerKind.Flatten:
                        outputOffset[i] = OffsetOf(l.Inputs[0]); // NCHW is already flat in PyTorch's order: a view, no copy
                        break;
                    default:
                        outputOffset[i] = Allocate(l.Output.Size);
                        break;
                }
            }

            // The main Softmax is applied outside the layer walk (fused with the loss in training), so it is nobody's consumer here.
            int softmaxNode = network.EndsWithSoftmax ? network.Heads[0].Output : -2;
            foreach (List<int> users in consumers.Values) users.Remove(softmaxNode);

            // Gradients: which consumer writes each tensor's gradient first (in backward order) and which add to it.
            var isHeadTensor = new HashSet<int>(network.Heads.Select(h => h.Logits));
            isHeadTensor.Add(network.Heads[0].Output);
            var accumulates = new Dictionary<(int Node, int Slot), bool>();
            for (int t = -1; t < count; t++)
            {
                List<int> users = consumers[t];
                if (users.Count == 0) continue;
                int writer = isHeadTensor.Contains(t) ? -2 : users.Max();
                bool mainUser = users.Any(u => nodes[u].Head == 0);
                if (writer >= 0 && mainUser && nodes[writer].Head != 0)
                    throw new InvalidOperationException($"the last consumer of {(t < 0 ? "the input" : nodes[t].Name)} is an auxiliary head");
                bool written = false;
                foreach (int u in users.OrderByDescending(u => u))
                    for (int slot = 0; slot < nodes[u].Inputs.Count; slot++)
                    {
                        if (nodes[u].Inputs[slot] != t) continue;
                        accumulates[(u, slot)] = writer == -2 || written || u != writer;
                        written = true;
                    }
            }

            // ReLU -> max pool (the 2x2/2 pair pool, ResNet's 3x3/2 stem pool, any other): the pool's forward applies the ReLU
            // and its backward writes the ReLU's input gradient (so that gradient is live from the pool's backward on); the
            // ReLU's own passes disappear: no full-size output or gradient written and reread.
            var reluIntoPool = new int[count];
            for (int r = 0; r < count; r++)
            {
                reluIntoPool[r] = -1;
                if (nodes[r].Kind != LayerKind.ReLU || nodes[r].Inputs[0] < 0 || consumers[r].Count != 1 || isHeadTensor.Contains(r)) continue;
                int m = consumers[r][0];
                if (nodes[m].Kind != LayerKind.MaxPool2D || nodes[m].Head != nodes[r].Head) continue;
                if (accumulates.TryGetValue((r, 0), out bool adds) && adds) continue;
                reluIntoPool[r] = m;
            }

            // Gradient slots by lifetime: tensor t's gradient is live while backward runs nodes [t, last consumer] (head
            // outputs from the start). Placed greedily by size (largest first, TFLite's "greedy by size"): each at the lowest
            // offset that no tensor with an overlapping lifetime occupies, so a chain ping-pongs between two slots.
            var gradientOffset = new long[count];
            var intervals = new List<(int Tensor, int End, int Start, long Size)>();
            int mainOutput = network.Heads[0].Output;
            for (int t = 0; t < count; t++) // the network input's and main output's gradients are not here: they have their own buffers
            {
                if (t == mainOutput) { gradientOffset[t] = -1; continue; }
                int start = isHeadTensor.Contains(t) ? count : consumers[t].Where(u => u != softmaxNode).DefaultIfEmpty(-2).Max();
                foreach (int u in consumers[t])
                    if (reluIntoPool[u] >= 0) start = Math.Max(start, reluIntoPool[u]); // written by the pool's backward
                if (start < 0) continue;
                if (t >= 0 && reluIntoPool[t] >= 0) { gradientOffset[t] = -1; continue; } // never written: the pool applies the mask
                intervals.Add((t, t, start, RoundUp(network.ShapeOf(t).Size)));
            }
            var placed = new List<(int End, int Start, long Offset, long Size)>();
            long gradientArena = 0;
            foreach (var iv in intervals.OrderByDescending(v => v.Size).ThenByDescending(v => v.Start))
            {
                long at = 0;
                foreach (var p in placed.Where(p => p.End <= iv.Start && iv.End <= p.Start).OrderBy(p => p.Offset))
                {
                    if (at + iv.Size <= p.Offset) break;
                    at = Math.Max(at, p.Offset + p.Size);
                }
                placed.Add((iv.End, iv.Start, at, iv.Size));
                gradientArena = Math.Max(gradientArena, at + iv.Size);
                gradientOffset[iv.Tensor] = at;
            }
            // Scratch for a consumer that adds to a gradient another consumer already wrote: the kernel writes here, then adds.
            long scratch = gradientArena;
            long largest = Math.Max(network.Input.Size, nodes.Max(n => n.Output.Size));
            if (accumulates.Values.Any(a => a)) gradientArena += RoundUp(largest);

            var layers = new List<LayerPlan>();
            for (int i = 0; i < count; i++)
            {
                CheckedLayer l = nodes[i];
                var inputOffsets = l.Inputs.Select(OffsetOf).ToEquatableArray();
                var inputGradients = l.Inputs.Select(t => t < 0 ? -1 : gradientOffset[t]).ToEquatableArray();
                var adds = Enumerable.Range(0, l.Inputs.Count).Select(s => accumulates.TryGetValue((i, s), out bool a) && a).ToEquatableArray();
                layers.Add(new LayerPlan(l, inputOffsets, outputOffset[i], auxOffset[i], weightIndex[i], biasIndex[i], meanIndex[i], varIndex[i],
                    statsOffset[i], gradientOffset[i], inputGradients, adds, foldOf[i], foldedBn[i])
                {
                    BackwardInNextPool = reluIntoPool[i] >= 0,
                    BackwardAppliesRelu = l.Inputs[0] >= 0 && reluIntoPool[l.Inputs[0]] == i,
                    WinogradIndex = winogradOf[i],
                    PackIndex = packOf[i],
                    GradientInOutputBuffer = i == mainOutput,
                });
            }

            long parameterCount = nodes.Sum(l => l.Parameters);
            long flops = nodes.Where(l => l.Head == 0).Sum(l => l.Flops);
            return new NetworkPlan(network, layers.ToEquatableArray(), parameters.ToEquatableArray(), buffers.ToEquatableArray(), folds.ToEquatableArray(),
                parameterArena, bufferArena, foldArena, activations, gradientArena, RoundUp(workspace), stats, parameterCount, flops)
            {
                ScratchGradientOffset = scratch,
                Winograds = winograds.ToEquatableArray(),
                WinogradArenaLength = winogradArena,
                Packs = packs.ToEquatableArray(),
            };
        }
    }
}
