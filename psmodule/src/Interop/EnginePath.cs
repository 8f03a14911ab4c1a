using System;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    /// <summary>
    /// The engine keeps paths in one '/'-separated form rooted at "/" (native/platform/platform.h,
    /// ob_platform_path_internal); on Windows the drive is its first component ("/C:/data" for
    /// C:\data, "/C:" for C:\, "/UNC/srv/share" for \\srv\share). What the module shows and hands to
    /// .NET is the Windows form; on other systems the path is the same in both.
    /// </summary>
    internal static class EnginePath
    {
        private static readonly bool Windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        internal static string ToNative(string path)
        {
            if (!Windows || string.IsNullOrEmpty(path) || path[0] != '/')
                return path;
            if (path.StartsWith("/Volume{", StringComparison.OrdinalIgnoreCase))
                return @"\\?\" + path.Substring(1).Replace('/', '\\');   // a volume mounted nowhere, as it was given
            if (path.StartsWith("/UNC/", StringComparison.OrdinalIgnoreCase))
                return @"\\" + path.Substring(5).Replace('/', '\\');
            if (path.Length >= 3 && char.IsLetter(path[1]) && path[2] == ':' && (path.Length == 3 || path[3] == '/'))
                return path.Length == 3 ? path.Substring(1) + @"\" : path.Substring(1).Replace('/', '\\');
            return path;
        }

        internal static string FromNativePointer(IntPtr p)
        {
            return ToNative(Utf8.FromNative(p));
        }
    }
}
