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
            try
            {
                Native.SyncEnvironment();
                Execute();
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

        internal static OBVault ToOBVault(VaultHandle vault)
        {
            return new OBVault
            {
                Name = Native.VaultName(vault),
                VaultId = Native.VaultId(vault),
                Path = Native.VaultLocation(vault),
                StorageType = Native.VaultStorageType(vault),
                CreatedTime = Native.VaultCreated(vault).LocalDateTime,
                FormatVersion = Native.VaultFormatVersion(vault),
                ServerCount = Native.VaultServerCount(vault),
            };
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
