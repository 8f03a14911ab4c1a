using System;
using System.IO;
using System.Management.Automation;
using System.Runtime.InteropServices;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// What every OBAgent cmdlet does around its native work: hand the current OBAGENT_*
    /// environment to the library, turn native failures into terminating ErrorRecords
    /// (Interop/ErrorMap.cs) and resolve paths against the PowerShell location.
    ///
    /// Refusals made in managed code, with their stable ErrorIds:
    ///   VaultCredentialsPathNotAbsolute  InvalidArgument    Start-OBRegistration, relative path
    ///   PathContainsNul                  InvalidArgument    New-OBFileSpec, New-OBRecoveryOption: a NUL in a path
    ///   NativeLibraryNotLoaded           ResourceUnavailable libobagent missing or incompatible
    /// </summary>
    public abstract class OBCmdletBase : PSCmdlet
    {
        /// <summary>The object an ErrorRecord names as its target (a path, a vault name...).</summary>
        protected virtual object ErrorTarget
        {
            get { return null; }
        }

        /// <summary>The cmdlet's work for one pipeline record; native failures may propagate.</summary>
        protected abstract void Execute();

        protected sealed override void ProcessRecord()
        {
            Guarded(Execute);
        }

        /// <summary>
        /// Run native work the way ProcessRecord runs Execute: environment handed over first, native
        /// failures turned into terminating errors. For cmdlets that work in EndProcessing.
        /// </summary>
        protected void Guarded(Action work)
        {
            try
            {
                Native.SyncEnvironment();
                work();
            }
            catch (OBAgentException ex)
            {
                ThrowTerminatingError(ErrorMap.ToErrorRecord(ex, ErrorTarget));
            }
            catch (DllNotFoundException ex)
            {
                ThrowNativeLibraryError(ex);
            }
            catch (EntryPointNotFoundException ex)
            {
                ThrowNativeLibraryError(ex);
            }
        }

        private void ThrowNativeLibraryError(Exception ex)
        {
            string message = string.Format(
                "The obagent library ({0}) could not be used: {1} It must be in the module folder next to OBAgent.dll.",
                NativeLibraryLoader.FileName, ex.Message);
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException(message, ex),
                "NativeLibraryNotLoaded", ErrorCategory.ResourceUnavailable, null));
        }

        /// <summary>A file-system path resolved against the current PowerShell location (need not exist).</summary>
        protected string ResolvePath(string path)
        {
            return SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
        }

        /// <summary>Stop the cmdlet with an error found in managed code.</summary>
        protected void ThrowError(string message, string errorId, ErrorCategory category, object target)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(message), errorId, category, target));
        }

        /// <summary>
        /// Refuse a path with a NUL character in it (PathContainsNul, InvalidArgument): the library
        /// takes C strings, where the path would silently end at the NUL.
        /// </summary>
        protected void RefuseNul(string path, string what)
        {
            int nul = path == null ? -1 : path.IndexOf('\0');
            if (nul < 0)
                return;
            ThrowError(string.Format(
                "{0} '{1}' contains a NUL character (shown as \\0), which would cut it short at '{2}'. Remove it and try again.",
                what, path.Replace("\0", "\\0"), path.Substring(0, nul)), "PathContainsNul", ErrorCategory.InvalidArgument, path);
        }

        /// <summary>
        /// Warn about an inclusion that does not exist now: the policy keeps it (as MARS does), and
        /// every backup reports it missing until it exists again.
        /// </summary>
        internal void WarnIfMissing(OBFileSpec spec)
        {
            if (spec == null || spec.IsExclude)
                return;
            string path = spec.NormalizedPath == null ? spec.FileSpec : EnginePath.ToNative(spec.NormalizedPath);
            if (string.IsNullOrEmpty(path))
                return;
            int slash = Math.Max(path.LastIndexOf('/'), path.LastIndexOf('\\'));
            string last = slash < 0 ? path : path.Substring(slash + 1);
            bool exists;
            if (last.IndexOfAny(new[] { '*', '?' }) >= 0)
                exists = Directory.Exists(slash <= 0 ? path.Substring(0, slash + 1) : path.Substring(0, slash));
            else
                exists = Directory.Exists(path) || File.Exists(path);
            if (!exists)
                WriteWarning(string.Format(
                    "The inclusion '{0}' does not exist now{1}. The policy keeps it, but each backup lists it as "
                    + "missing (CompletedWithWarning, or Failed when nothing else is left) until it exists: check the "
                    + "path, or mount its volume.", path, last.IndexOfAny(new[] { '*', '?' }) >= 0 ? " (its folder is missing)" : ""));
        }

        /// <summary>This server's name as the library will see it, for ShouldProcess targets.</summary>
        protected static string ServerNameHint()
        {
            string name = Environment.GetEnvironmentVariable("OBAGENT_SERVER_NAME");
            if (!string.IsNullOrEmpty(name))
                return name;
            try
            {
                return System.Net.Dns.GetHostName();
            }
            catch (System.Net.Sockets.SocketException)
            {
                return Environment.MachineName;
            }
        }

        /// <summary>True for a path that names one place whatever the current folder or drive.</summary>
        protected static bool IsFullyQualified(string path)
        {
            if (string.IsNullOrEmpty(path))
                return false;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                if (path.Length >= 3 && char.IsLetter(path[0]) && path[1] == ':' && (path[2] == '\\' || path[2] == '/'))
                    return true;
                return path.StartsWith(@"\\", StringComparison.Ordinal) || path.StartsWith("//", StringComparison.Ordinal);
            }
            return path[0] == '/';
        }

        /// <summary>A directory path without a trailing separator (except a root).</summary>
        protected static string TrimSeparator(string path)
        {
            string root = Path.GetPathRoot(path);
            while (path.Length > 1 && path.Length > (root == null ? 0 : root.Length)
                && (path[path.Length - 1] == Path.DirectorySeparatorChar || path[path.Length - 1] == Path.AltDirectorySeparatorChar))
                path = path.Substring(0, path.Length - 1);
            return path;
        }
    }
}
