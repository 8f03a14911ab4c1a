using System;
using System.Runtime.InteropServices;
using System.Security;

namespace OBAgent.Interop
{
    /// <summary>
    /// A secret (passphrase, proxy password) as UTF-8 bytes in unmanaged memory, made from a
    /// SecureString at the last moment. No managed copy of the characters or bytes is ever made:
    /// the UTF-16 copy that SecureString hands out is zeroed and freed at once, and Dispose zeroes
    /// and frees the UTF-8 bytes. Create it in a using block around the one native call.
    /// </summary>
    internal sealed class SecretBytes : IDisposable
    {
        private IntPtr buffer;
        private int capacity;

        internal int Length { get; private set; }

        private SecretBytes() { }

        /// <summary>
        /// A SecureString as a plain string, for a parameter the library takes as a string (an
        /// Azure account key typed either way): the UTF-16 copy is zeroed and freed at once.
        /// </summary>
        internal static string ToPlainString(SecureString secret)
        {
            IntPtr p = IntPtr.Zero;
            try
            {
                p = Marshal.SecureStringToGlobalAllocUnicode(secret);
                return Marshal.PtrToStringUni(p);
            }
            finally
            {
                if (p != IntPtr.Zero)
                    Marshal.ZeroFreeGlobalAllocUnicode(p);
            }
        }

        internal static SecretBytes FromSecureString(SecureString secret)
        {
            if (secret == null)
                throw new ArgumentNullException("secret");
            var result = new SecretBytes();
            int chars = secret.Length;
            // Each UTF-16 unit is at most 3 UTF-8 bytes (a surrogate pair: 4 bytes for 2 units).
            result.capacity = Math.Max(1, chars * 3);
            result.buffer = Marshal.AllocHGlobal(result.capacity);
            IntPtr unicode = IntPtr.Zero;
            try
            {
                unicode = Marshal.SecureStringToGlobalAllocUnicode(secret);
                int o = 0;
                for (int i = 0; i < chars; i++)
                {
                    int c = (ushort)Marshal.ReadInt16(unicode, i * 2);
                    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < chars)
                    {
                        int low = (ushort)Marshal.ReadInt16(unicode, (i + 1) * 2);
                        if (low >= 0xDC00 && low <= 0xDFFF)
                        {
                            c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                            i++;
                        }
                    }
                    if (c < 0x80)
                    {
                        result.Put(ref o, c);
                        continue;
                    }
                    if (c < 0x800)
                    {
                        result.Put(ref o, 0xC0 | (c >> 6));
                    }
                    else if (c < 0x10000)
                    {
                        result.Put(ref o, 0xE0 | (c >> 12));
                        result.Put(ref o, 0x80 | ((c >> 6) & 0x3F));
                    }
                    else
                    {
                        result.Put(ref o, 0xF0 | (c >> 18));
                        result.Put(ref o, 0x80 | ((c >> 12) & 0x3F));
                        result.Put(ref o, 0x80 | ((c >> 6) & 0x3F));
                    }
                    result.Put(ref o, 0x80 | (c & 0x3F));
                }
                result.Length = o;
                return result;
            }
            catch
            {
                result.Dispose();
                throw;
            }
            finally
            {
                if (unicode != IntPtr.Zero)
                    Marshal.ZeroFreeGlobalAllocUnicode(unicode);
            }
        }

        private void Put(ref int offset, int value)
        {
            Marshal.WriteByte(buffer, offset++, (byte)value);
        }

        /// <summary>The unmanaged bytes; only for the native call, inside the interop layer.</summary>
        internal IntPtr Pointer { get { return buffer; } }

        public void Dispose()
        {
            if (buffer != IntPtr.Zero)
            {
                for (int i = 0; i < capacity; i++)
                    Marshal.WriteByte(buffer, i, 0);
                Marshal.FreeHGlobal(buffer);
                buffer = IntPtr.Zero;
            }
            Length = 0;
        }
    }
}
