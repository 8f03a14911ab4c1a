using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    /// <summary>
    /// The unmanaged memory behind the pointer fields of a struct passed to one native call
    /// (NUL-terminated UTF-8 copies of strings, arrays of pointers); all freed on Dispose. A secret
    /// (an account key, an owner key) is zeroed before its memory is freed, and its managed byte
    /// copy at once.
    /// </summary>
    internal sealed class UnmanagedScope : IDisposable
    {
        private readonly List<IntPtr> allocated = new List<IntPtr>();
        private readonly List<KeyValuePair<IntPtr, int>> secrets = new List<KeyValuePair<IntPtr, int>>();

        /// <summary>A copy of s (IntPtr.Zero for null).</summary>
        internal IntPtr Add(string s)
        {
            byte[] bytes = Utf8.ToNative(s);
            return bytes == null ? IntPtr.Zero : Copy(bytes);
        }

        /// <summary>A copy of a secret s (IntPtr.Zero for null), zeroed on Dispose.</summary>
        internal IntPtr AddSecret(string s)
        {
            byte[] bytes = Utf8.ToNative(s);
            if (bytes == null)
                return IntPtr.Zero;
            try
            {
                IntPtr p = Copy(bytes);
                secrets.Add(new KeyValuePair<IntPtr, int>(p, bytes.Length));
                return p;
            }
            finally
            {
                Array.Clear(bytes, 0, bytes.Length);
            }
        }

        /// <summary>size bytes, uninitialised.</summary>
        internal IntPtr Allocate(int size)
        {
            IntPtr p = Marshal.AllocHGlobal(size);
            allocated.Add(p);
            return p;
        }

        private IntPtr Copy(byte[] bytes)
        {
            IntPtr p = Allocate(bytes.Length);
            Marshal.Copy(bytes, 0, p, bytes.Length);
            return p;
        }

        public void Dispose()
        {
            foreach (KeyValuePair<IntPtr, int> s in secrets)
                Marshal.Copy(new byte[s.Value], 0, s.Key, s.Value);
            secrets.Clear();
            foreach (IntPtr p in allocated)
                Marshal.FreeHGlobal(p);
            allocated.Clear();
        }
    }
}
