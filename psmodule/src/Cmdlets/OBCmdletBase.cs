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
            string path = spec.NormalizedPath ?? spec.FileSpec;
            if (string.IsNullOrEmpty(path))
                return;
            int slash = path.LastIndexOf('/');
            string last = slash < 0 ? path : path.Substring(slash + 1);
            bool exists;
            if (last.IndexOfAny(new[] { '*', '?' }) >= 0)
                exists = Directory.Exists(slash <= 0 ? "/" : path.Substring(0, slash));
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

        /// <summary>An OBFileSpec for a checked spec: the folder and name parts the way MSOnlineBackup shows them.</summary>
        internal static OBFileSpec MakeFileSpec(string typed, string normalized, bool isExclude, bool isRecursive)
        {
            int slash = normalized.LastIndexOf('/');
            string last = normalized == "/" || slash < 0 ? "" : normalized.Substring(slash + 1);
            string parent = slash <= 0 ? "/" : normalized.Substring(0, slash);
            bool wild = last.IndexOfAny(new[] { '*', '?' }) >= 0;
            bool folder = !wild && (last.Length == 0 || Directory.Exists(normalized) || !File.Exists(normalized));
            return new OBFileSpec
            {
                FileSpec = typed,
                NormalizedPath = normalized,
                FilePath = folder ? normalized : parent,
                FileName = folder ? "*" : last,
                IsExclude = isExclude,
                IsRecursive = isRecursive,
            };
        }

        /// <summary>The committed policy as an OBPolicy (State Existing).</summary>
        internal static OBPolicy ToOBPolicy(PolicyHandle policy)
        {
            var list = new System.Collections.Generic.List<OBDataSource>();
            int count = Native.PolicyDatasourceCount(policy);
            for (int ds = 0; ds < count; ds++)
            {
                var specs = new System.Collections.Generic.List<OBFileSpec>();
                int n = Native.PolicyFilespecCount(policy, ds);
                for (int i = 0; i < n; i++)
                {
                    PolicyFileSpecInfo f = Native.PolicyFilespec(policy, ds, i);
                    specs.Add(MakeFileSpec(f.Spec, f.Spec, f.IsExclude, f.IsRecursive));
                }
                list.Add(new OBDataSource
                {
                    DatasourceId = Native.PolicyDatasourceId(policy, ds),
                    DataSourceName = Native.PolicyDatasourceName(policy, ds),
                    FileSpec = specs,
                });
            }
            return OBPolicy.FromCommitted(Native.PolicyName(policy), (OBPolicyState)Native.PolicyState(policy), list);
        }

        /// <summary>The committed policy of this server, or null when there is none.</summary>
        internal static OBPolicy CommittedPolicy(AgentHandle agent)
        {
            using (PolicyHandle policy = Native.PolicyGet(agent))
            {
                return policy == null ? null : ToOBPolicy(policy);
            }
        }

        private static DateTime LocalTime(long seconds)
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds).LocalDateTime;
        }

        /// <summary>A job as an OBJob; the committed policy (may be null) names the data source ids.</summary>
        internal static OBJob ToOBJob(JobInfo info, OBPolicy policy)
        {
            string state = Native.JobStateName(info.State);
            var error = new OBErrorInfo { ErrorCode = info.ErrorCode, DetailedErrorCode = info.ErrorCode, ErrorMessage = info.ErrorMessage };
            var statuses = new OBDatasourceStatus[info.Datasources.Length];
            for (int i = 0; i < statuses.Length; i++)
            {
                long id = 0;
                if (policy != null)
                {
                    foreach (OBDataSource ds in policy.DsList)
                    {
                        if (ds.DataSourceName == info.Datasources[i])
                            id = ds.DatasourceId;
                    }
                }
                statuses[i] = new OBDatasourceStatus
                {
                    Datasource = new OBJobDatasource { DataSourceName = info.Datasources[i], DataSourceId = id },
                    JobState = state,
                    ByteProgress = new OBByteProgress { Progress = info.BytesDone, Total = info.BytesScanned, Uploaded = info.BytesUploaded },
                    ErrorInfo = error,
                };
            }
            return new OBJob
            {
                JobId = info.JobId,
                JobType = (OBJobType)info.Type,
                DisplayTime = LocalTime(info.StartTime),
                JobStatus = new OBJobStatus
                {
                    JobState = state,
                    StartTime = LocalTime(info.StartTime),
                    EndTime = info.EndTime == 0 ? (DateTime?)null : LocalTime(info.EndTime),
                    ErrorInfo = error,
                    DatasourceStatus = statuses,
                },
                FilesScanned = info.FilesScanned,
                FilesDone = info.FilesDone,
                FailedFileCount = info.FilesFailed,
                Phase = info.Phase,
                RecoveryPointId = info.RecoveryPoint,
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
