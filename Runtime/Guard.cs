// Argument checks shared by generated networks and the runtime. Every message says what was expected,
// what arrived and how to fix it; checks run before anything is modified.
using System;

namespace CnnGen
{
    public static class Guard
    {
        public static void Batch(int batch, int maxBatch, string name = "batch")
        {
            if (batch < 1 || batch > maxBatch)
                throw new ArgumentOutOfRangeException(name, batch,
                    $"{name} must be between 1 and the network's capacity maxBatch = {maxBatch}, but was {batch}. " +
                    "Construct the network with a larger maxBatch to run bigger batches.");
        }

        /// <summary>Checks that a buffer holds exactly <paramref name="batch"/> items of <paramref name="perItem"/> floats.</summary>
        public static void Length(int actual, int batch, int perItem, string name)
        {
            long expected = (long)batch * perItem;
            if (actual != expected)
                throw new ArgumentException(
                    $"{name} has length {actual}, but batch {batch} x {perItem} floats per item = {expected} was expected.", name);
        }

        public static void Labels(ReadOnlySpan<int> labels, int classes, string name = "labels")
        {
            for (int i = 0; i < labels.Length; i++)
            {
                if ((uint)labels[i] >= (uint)classes)
                    throw new ArgumentOutOfRangeException(name, labels[i],
                        $"{name}[{i}] = {labels[i]} is not a class index: the network has {classes} outputs, so labels must be in [0, {classes - 1}].");
            }
        }

        public static void NotDisposed(bool disposed, string typeName)
        {
            if (disposed) throw new ObjectDisposedException(typeName, $"This {typeName} has been disposed; its memory is gone. Create a new instance.");
        }
    }
}
