// Mini-batches for training: a seeded shuffle per epoch, each batch copied into buffers allocated once,
// so a training loop touches the managed heap only at construction.
using System;

namespace CnnGen.Data
{
    /// <summary>
    /// Walks a <see cref="LabeledImages"/> in shuffled mini-batches. Call <see cref="BeginEpoch"/>, then
    /// <see cref="MoveNext"/> until it returns false; after each successful <see cref="MoveNext"/> the batch is in
    /// <see cref="CurrentImages"/> / <see cref="CurrentLabels"/> (views of buffers this iterator owns and overwrites).
    /// The same data, batch size and seed give the same batches in every epoch on every machine.
    /// </summary>
    public sealed class BatchIterator
    {
        private readonly LabeledImages _data;
        private readonly Rng _rng;
        private readonly int[] _order;
        private readonly float[] _images;
        private readonly int[] _labels;
        private readonly ulong _seed;
        private readonly Augmentation _augmentation;
        private readonly Rng _augmentRng;
        private int _position;      // index into _order of the next batch's first item
        private int _currentCount;
        private bool _epochStarted;

        /// <param name="data">Images and labels to iterate over.</param>
        /// <param name="batchSize">Items per batch; at most the network's MaxBatch.</param>
        /// <param name="seed">Seeds the shuffle; the sequence of epochs is a pure function of it.</param>
        /// <param name="shuffle">False keeps the data set's order (for evaluation or debugging).</param>
        /// <param name="dropLastPartialBatch">True skips the final batch of an epoch when it has fewer than
        /// <paramref name="batchSize"/> items.</param>
        /// <param name="augmentation">Random flips and shifts applied to each copied image (null = none).</param>
        public BatchIterator(LabeledImages data, int batchSize, ulong seed = 1, bool shuffle = true, bool dropLastPartialBatch = false,
            Augmentation? augmentation = null)
        {
            ArgumentNullException.ThrowIfNull(data);
            if (batchSize < 1)
                throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"batchSize must be at least 1, but was {batchSize}; 64 is a good default.");
            if (data.Count == 0)
                throw new ArgumentException("The data set is empty: there is nothing to iterate over.", nameof(data));
            if (dropLastPartialBatch && batchSize > data.Count)
                throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize,
                    $"batchSize {batchSize} is larger than the {data.Count} items, and dropLastPartialBatch would leave no batch at all. " +
                    "Use a smaller batch or keep the partial batch.");

            augmentation ??= Augmentation.None;
            augmentation.Validate(data.Height, data.Width);

            _data = data;
            _rng = new Rng(seed);
            _seed = seed;
            _augmentation = augmentation;
            _augmentRng = new Rng(seed);
            BatchSize = batchSize;
            Shuffle = shuffle;
            DropLastPartialBatch = dropLastPartialBatch;
            _order = new int[data.Count];
            _images = new float[(long)batchSize * data.ImageLength];
            _labels = new int[batchSize];
        }

        public int BatchSize { get; }
        public bool Shuffle { get; }
        public bool DropLastPartialBatch { get; }
        public Augmentation Augmentation => _augmentation;
        /// <summary>Number of items in the data set.</summary>
        public int Count => _data.Count;
        /// <summary>Items visited in one epoch: all of them, or all but the dropped partial batch.</summary>
        public int ItemsPerEpoch => DropLastPartialBatch ? Count / BatchSize * BatchSize : Count;
        public int BatchesPerEpoch => DropLastPartialBatch ? Count / BatchSize : (Count + BatchSize - 1) / BatchSize;
        /// <summary>Epochs begun so far.</summary>
        public int Epoch { get; private set; }

        /// <summary>Items in the current batch (equal to <see cref="BatchSize"/> except for a last partial batch).</summary>
        public int CurrentCount => _currentCount;
        /// <summary>The current batch's images, <see cref="CurrentCount"/> x image length floats, NCHW.</summary>
        public ReadOnlySpan<float> CurrentImages => _images.AsSpan(0, _currentCount * _data.ImageLength);
        /// <summary>The current batch's labels.</summary>
        public ReadOnlySpan<int> CurrentLabels => _labels.AsSpan(0, _currentCount);
        /// <summary>Data-set indices of the current batch's items, in batch order.</summary>
        public ReadOnlySpan<int> CurrentIndices => _order.AsSpan(_position - _currentCount, _currentCount);

        /// <summary>Starts a new epoch: draws a fresh permutation (when shuffling) and rewinds to its first batch.</summary>
        public void BeginEpoch()
        {
            // Start from the identity each epoch so an epoch's order depends only on the seed and the epoch number.
            for (int i = 0; i < _order.Length; i++) _order[i] = i;
            if (Shuffle) _rng.Shuffle(_order);
            _position = 0;
            _currentCount = 0;
            _epochStarted = true;
            Epoch++;
            // Its own stream per epoch (not the shuffle's), so skipping an epoch's batches on resume changes nothing later.
            _augmentRng.Reset(_seed ^ (0xA5A5_0000_0000_0000UL + (ulong)Epoch * 0x9E37_79B9UL));
        }

        /// <summary>Copies the next batch into the buffers. False when the epoch has no batches left.</summary>
        public bool MoveNext()
        {
            if (!_epochStarted)
                throw new InvalidOperationException("Call BeginEpoch() before MoveNext(): an epoch must be started to draw its order.");
            int remaining = _order.Length - _position;
            int count = Math.Min(BatchSize, remaining);
            if (count == 0 || (DropLastPartialBatch && count < BatchSize))
            {
                _currentCount = 0;
                _position = _order.Length;
                return false;
            }

            int length = _data.ImageLength;
            float[] source = _data.Images;
            int[] labels = _data.Labels;
            for (int b = 0; b < count; b++)
            {
                int index = _order[_position + b];
                if (_augmentation.IsIdentity)
                    Array.Copy(source, (long)index * length, _images, (long)b * length, length);
                else
                    _augmentation.Apply(source.AsSpan(index * length, length), _images.AsSpan(b * length, length),
                        _data.Channels, _data.Height, _data.Width, _augmentRng);
                _labels[b] = labels[index];
            }
            _position += count;
            _currentCount = count;
            return true;
        }
    }
}
