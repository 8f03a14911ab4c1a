using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    /// <summary>What ob_registration holds, copied out of native memory.</summary>
    internal sealed class RegistrationInfo
    {
        internal string VaultName;
        internal string VaultId;
        internal string VaultLocation;
        internal string StorageType;
        internal string ServerName;
        internal string ServerId;
        internal DateTimeOffset RegisteredAt;
    }

    /// <summary>What ob_machine_settings holds, copied out of native memory.</summary>
    internal sealed class MachineSettingsInfo
    {
        internal bool ProxyEnabled;
        internal string ProxyServer;
        internal int ProxyPort;
        internal string ProxyUsername;
        internal bool ProxyHasPassword;
        internal bool EncryptionKeySet;
        internal bool ThrottleEnabled;
        internal uint WorkDays;
        internal int StartWorkMinute;
        internal int EndWorkMinute;
        internal uint WorkHourBandwidth;
        internal uint NonWorkHourBandwidth;
    }

    /// <summary>One file spec of a committed policy, copied out of native memory.</summary>
    internal sealed class PolicyFileSpecInfo
    {
        internal string Spec;
        internal bool IsExclude;
        internal bool IsRecursive;
    }

    /// <summary>
    /// An ob_schedule in managed form. Times are minutes after midnight and may be more than the
    /// three the struct holds: the count then goes over as it is, so that ob_schedule_validate
    /// refuses it with its own message.
    /// </summary>
    internal sealed class ScheduleInfo
    {
        internal uint Days;
        internal int[] Times;
        internal int WeeklyFrequency;
        internal long AnchorDate;
        internal bool SystemState;
    }

    /// <summary>An ob_retention_rule in managed form; Count 0 is a rule that is off.</summary>
    internal sealed class RetentionRuleInfo
    {
        internal long Count;
        internal uint DaysOfWeek;
        internal uint WeeksOfMonth;
        internal uint DaysOfMonth;
        internal uint MonthsOfYear;
        internal int[] Times;
    }

    /// <summary>An ob_retention in managed form; a null rule is a rule that is off.</summary>
    internal sealed class RetentionInfo
    {
        internal long Days;
        internal RetentionRuleInfo Weekly;
        internal RetentionRuleInfo Monthly;
        internal RetentionRuleInfo Yearly;
    }

    /// <summary>What ob_job_info holds, copied out of native memory.</summary>
    internal sealed class JobInfo
    {
        internal string JobId;
        internal int Type;
        internal int State;
        internal long StartTime;
        internal long EndTime;
        internal string Phase;
        internal int ErrorCode;
        internal string ErrorMessage;
        internal ulong FilesScanned;
        internal ulong FilesDone;
        internal ulong FilesFailed;
        internal ulong BytesScanned;
        internal ulong BytesDone;
        internal ulong BytesUploaded;
        /// <summary>0 to 100 (ob_job_percent_complete: bytes in the vault of bytes found), -1 unknown.</summary>
        internal int PercentComplete;
        internal long DatasourceId;
        internal string[] Datasources;
        internal string RecoveryPoint;
    }

    /// <summary>What ob_recovery_point holds, copied out of native memory.</summary>
    internal sealed class RecoveryPointInfo
    {
        internal string Id;
        internal long BackupTime;
        internal string ServerName;
        internal string Kind;
        internal string[] Datasources;
        internal long[] DatasourceIds;
        internal ulong Files;
        internal ulong Bytes;
        internal long RetainUntil;
        internal string JobId;
        internal long DeletedAt;
        internal long PurgeAfter;
        /// <summary>The point's record cannot be read (damaged or forged): only Id, BackupTime and ServerName are known.</summary>
        internal bool Damaged;
        internal string Problem;
    }

    /// <summary>Where a vault on Azure Blob Storage is (ob_vault_azure_options); AccountKey is the owner's secret.</summary>
    internal sealed class AzureVaultInfo
    {
        internal string Endpoint;
        internal string Account;
        internal string AccountKey;
        internal string Container;
        internal int AccessDays;
    }

    /// <summary>What ob_maintenance_report holds.</summary>
    internal sealed class MaintenanceReportInfo
    {
        internal ulong PointsPurged;
        internal ulong PacksMarked;
        internal ulong PacksDeleted;
        internal ulong PacksRepacked;
        internal ulong BytesReclaimed;
        internal ulong BytesInUse;
    }

    /// <summary>What ob_backup_server holds, copied out of native memory.</summary>
    internal sealed class BackupServerInfo
    {
        internal string ServerName;
        internal string ServerId;
        internal long RegisteredAt;
        internal bool IsThisServer;
    }

    /// <summary>What ob_recovery_source holds, copied out of native memory.</summary>
    internal sealed class RecoverySourceInfo
    {
        internal string ServerName;
        internal long DatasourceId;
        internal string Name;
        internal string Kind;
    }

    /// <summary>What ob_recoverable_item holds, copied out of native memory.</summary>
    internal sealed class RecoverableItemInfo
    {
        internal string Path;
        internal string Name;
        internal bool IsDir;
        internal ulong Size;
        internal long MTime;
    }

    /// <summary>A recovery to start (ob_recovery_request); the passphrase travels separately as SecretBytes.</summary>
    internal sealed class RecoveryRequestInfo
    {
        internal string ServerName;
        internal string PointId;
        internal long DatasourceId;
        internal IList<string> Items;
        internal string Destination;
        internal int Overwrite;
        internal bool SkipSecurity;
    }

    /// <summary>
    /// One safe wrapper per native call: managed arguments in, managed values out, an
    /// OBAgentException (built by ErrorMap) for every negative status. Nothing here keeps state
    /// except the one-time initialisation. All calls happen on the pipeline thread, so
    /// ob_error_last() read right after a failure is that failure's text.
    /// </summary>
    internal static class Native
    {
        /// <summary>The environment variables the library reads (common.h, ob_env_set).</summary>
        internal static readonly string[] EnvironmentNames = { "OBAGENT_HOME", "OBAGENT_SERVER_NAME", "OBAGENT_NOW", "OBAGENT_WORKER" };

        private static readonly object Gate = new object();
        private static bool initialized;

        /// <summary>The exception for a failed call; read at once, before any other native call.</summary>
        private static OBAgentException Failure(int rc)
        {
            return ErrorMap.FromNative(rc, Utf8.FromNative(NativeMethods.ob_error_last()));
        }

        private static void Check(int rc)
        {
            if (rc < 0)
                throw Failure(rc);
        }

        private static DateTimeOffset FromUnix(long seconds)
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds);
        }

        /// <summary>Load the library from the module folder and call ob_init, once per process.</summary>
        internal static void EnsureInitialized()
        {
            lock (Gate)
            {
                if (initialized)
                    return;
                NativeLibraryLoader.Load();
                Check(NativeMethods.ob_init());
                initialized = true;
            }
        }

        internal static string Version()
        {
            EnsureInitialized();
            return Utf8.FromNative(NativeMethods.ob_version());
        }

        internal static void SetEnvironment(string name, string value)
        {
            Check(NativeMethods.ob_env_set(Utf8.ToNative(name), Utf8.ToNative(value)));
        }

        /// <summary>
        /// Hand the runtime's current values of OBAGENT_HOME, OBAGENT_SERVER_NAME and OBAGENT_NOW
        /// to the library (.NET on Unix keeps its own copy of the environment; getenv does not
        /// see $env: changes). An unset or empty variable clears the override.
        /// </summary>
        internal static void SyncEnvironment()
        {
            EnsureInitialized();
            foreach (string name in EnvironmentNames)
            {
                string value = Environment.GetEnvironmentVariable(name);
                SetEnvironment(name, string.IsNullOrEmpty(value) ? null : value);
            }
        }

        // vault.h

        internal static VaultHandle VaultCreate(string path, string name)
        {
            VaultHandle vault;
            int rc = NativeMethods.ob_vault_create(out vault, Utf8.ToNative(path), Utf8.ToNative(name));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                vault.Dispose();
                throw failure;
            }
            return vault;
        }

        internal static VaultHandle VaultOpen(string path)
        {
            VaultHandle vault;
            int rc = NativeMethods.ob_vault_open(out vault, Utf8.ToNative(path));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                vault.Dispose();
                throw failure;
            }
            return vault;
        }

        internal static string VaultName(VaultHandle vault)
        {
            return Utf8.FromNative(NativeMethods.ob_vault_name(vault));
        }

        internal static string VaultId(VaultHandle vault)
        {
            return Utf8.FromNative(NativeMethods.ob_vault_id(vault));
        }

        internal static string VaultLocation(VaultHandle vault)
        {
            return Utf8.FromNative(NativeMethods.ob_vault_location(vault));
        }

        internal static string VaultStorageType(VaultHandle vault)
        {
            return Utf8.FromNative(NativeMethods.ob_vault_storage_type(vault));
        }

        internal static DateTimeOffset VaultCreated(VaultHandle vault)
        {
            return FromUnix(NativeMethods.ob_vault_created(vault));
        }

        internal static int VaultFormatVersion(VaultHandle vault)
        {
            return NativeMethods.ob_vault_format_version(vault);
        }

        internal static long VaultServerCount(VaultHandle vault)
        {
            UIntPtr count;
            Check(NativeMethods.ob_vault_server_count(out count, vault));
            return (long)count.ToUInt64();
        }

        internal static string VaultCredentialsIssue(VaultHandle vault, string outputDir, int validityDays)
        {
            IntPtr path;
            int rc = NativeMethods.ob_vault_credentials_issue(out path, vault, Utf8.ToNative(outputDir), validityDays);
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_str_free(path);
                throw failure;
            }
            return Utf8.TakeOwned(path);
        }

        internal static string VaultSecurityPinNew(VaultHandle vault, out DateTimeOffset expires)
        {
            IntPtr pin;
            long when;
            int rc = NativeMethods.ob_vault_security_pin_new(out pin, out when, vault);
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_str_free(pin);
                throw failure;
            }
            expires = FromUnix(when);
            return Utf8.TakeOwned(pin);
        }

        /// <summary>Open (name null) or create a vault on Azure Blob Storage; the key lives in unmanaged memory only for the call.</summary>
        private static VaultHandle VaultAzure(string name, AzureVaultInfo azure)
        {
            var allocated = new List<IntPtr>();
            IntPtr key = IntPtr.Zero;
            int keyLength = 0;
            try
            {
                byte[] keyBytes = Utf8.ToNative(azure.AccountKey);
                if (keyBytes != null)
                {
                    keyLength = keyBytes.Length;
                    key = Marshal.AllocHGlobal(keyLength);
                    Marshal.Copy(keyBytes, 0, key, keyLength);
                    Array.Clear(keyBytes, 0, keyBytes.Length);
                }
                var raw = new ObVaultAzureOptionsNative
                {
                    version = 1,
                    endpoint = Unmanaged(azure.Endpoint, allocated),
                    account = Unmanaged(azure.Account, allocated),
                    account_key = key,
                    container = Unmanaged(azure.Container, allocated),
                    access_days = azure.AccessDays,
                    ca_file = IntPtr.Zero,
                };
                VaultHandle vault;
                int rc = name == null
                    ? NativeMethods.ob_vault_open_azure(out vault, ref raw)
                    : NativeMethods.ob_vault_create_azure(out vault, Utf8.ToNative(name), ref raw);
                if (rc < 0)
                {
                    OBAgentException failure = Failure(rc);
                    vault.Dispose();
                    throw failure;
                }
                return vault;
            }
            finally
            {
                if (key != IntPtr.Zero)
                {
                    Marshal.Copy(new byte[keyLength], 0, key, keyLength);
                    Marshal.FreeHGlobal(key);
                }
                foreach (IntPtr a in allocated)
                    Marshal.FreeHGlobal(a);
            }
        }

        internal static VaultHandle VaultCreateAzure(string name, AzureVaultInfo azure)
        {
            return VaultAzure(name ?? "", azure);
        }

        internal static VaultHandle VaultOpenAzure(AzureVaultInfo azure)
        {
            return VaultAzure(null, azure);
        }

        /// <summary>Undelete a soft-deleted recovery point of a server (the vault owner's right).</summary>
        internal static void VaultUndelete(VaultHandle vault, string serverName, string pointId)
        {
            Check(NativeMethods.ob_vault_undelete(vault, Utf8.ToNative(serverName), Utf8.ToNative(pointId)));
        }

        // agent.h

        /// <summary>Open the agent; home null means OBAGENT_HOME or the default state folder.</summary>
        internal static AgentHandle AgentOpen(string home)
        {
            AgentHandle agent;
            int rc = NativeMethods.ob_agent_open(out agent, Utf8.ToNative(home));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                agent.Dispose();
                throw failure;
            }
            return agent;
        }

        internal static string AgentHome(AgentHandle agent)
        {
            return Utf8.FromNative(NativeMethods.ob_agent_home(agent));
        }

        internal static string AgentServerName(AgentHandle agent)
        {
            return Utf8.FromNative(NativeMethods.ob_agent_server_name(agent));
        }

        private static RegistrationInfo TakeRegistration(IntPtr p)
        {
            try
            {
                var raw = (ObRegistrationNative)Marshal.PtrToStructure(p, typeof(ObRegistrationNative));
                return new RegistrationInfo
                {
                    VaultName = Utf8.FromNative(raw.vault_name),
                    VaultId = Utf8.FromNative(raw.vault_id),
                    VaultLocation = Utf8.FromNative(raw.vault_location),
                    StorageType = Utf8.FromNative(raw.storage_type),
                    ServerName = Utf8.FromNative(raw.server_name),
                    ServerId = Utf8.FromNative(raw.server_id),
                    RegisteredAt = FromUnix(raw.registered_at),
                };
            }
            finally
            {
                NativeMethods.ob_registration_free(p);
            }
        }

        internal static RegistrationInfo AgentRegister(AgentHandle agent, string credentialsPath)
        {
            IntPtr reg;
            int rc = NativeMethods.ob_agent_register(out reg, agent, Utf8.ToNative(credentialsPath));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_registration_free(reg);
                throw failure;
            }
            return TakeRegistration(reg);
        }

        /// <summary>The current registration, or null when the server is not registered (OB_ENOTREG).</summary>
        internal static RegistrationInfo AgentRegistration(AgentHandle agent)
        {
            IntPtr reg;
            int rc = NativeMethods.ob_agent_registration(out reg, agent);
            if (rc == -14)
            {
                NativeMethods.ob_registration_free(reg);
                NativeMethods.ob_error_clear();
                return null;
            }
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_registration_free(reg);
                throw failure;
            }
            return TakeRegistration(reg);
        }

        internal static void AgentSetPassphrase(AgentHandle agent, SecretBytes passphrase, string securityPin)
        {
            Check(NativeMethods.ob_agent_set_passphrase(agent, passphrase.Pointer,
                new UIntPtr((uint)passphrase.Length), Utf8.ToNative(securityPin)));
        }

        internal static MachineSettingsInfo AgentSettings(AgentHandle agent)
        {
            IntPtr p;
            int rc = NativeMethods.ob_agent_settings(out p, agent);
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_machine_settings_free(p);
                throw failure;
            }
            try
            {
                var raw = (ObMachineSettingsNative)Marshal.PtrToStructure(p, typeof(ObMachineSettingsNative));
                return new MachineSettingsInfo
                {
                    ProxyEnabled = raw.proxy_enabled != 0,
                    ProxyServer = Utf8.FromNative(raw.proxy_server),
                    ProxyPort = raw.proxy_port,
                    ProxyUsername = Utf8.FromNative(raw.proxy_username),
                    ProxyHasPassword = raw.proxy_has_password != 0,
                    EncryptionKeySet = raw.encryption_key_set != 0,
                    ThrottleEnabled = raw.throttle_enabled != 0,
                    WorkDays = raw.work_days,
                    StartWorkMinute = raw.start_work_minute,
                    EndWorkMinute = raw.end_work_minute,
                    WorkHourBandwidth = raw.work_hour_bandwidth,
                    NonWorkHourBandwidth = raw.non_work_hour_bandwidth,
                };
            }
            finally
            {
                NativeMethods.ob_machine_settings_free(p);
            }
        }

        /// <summary>Use a proxy; password may be null (no password).</summary>
        internal static void AgentSetProxy(AgentHandle agent, string server, int port, string username, SecretBytes password)
        {
            Check(NativeMethods.ob_agent_set_proxy(agent, Utf8.ToNative(server), port, Utf8.ToNative(username),
                password == null ? IntPtr.Zero : password.Pointer,
                new UIntPtr(password == null ? 0u : (uint)password.Length)));
        }

        internal static void AgentSetNoProxy(AgentHandle agent)
        {
            Check(NativeMethods.ob_agent_set_no_proxy(agent));
        }

        internal static void AgentSetThrottle(AgentHandle agent, uint workDays, int startMinute, int endMinute,
            uint workBandwidth, uint nonWorkBandwidth)
        {
            Check(NativeMethods.ob_agent_set_throttle(agent, workDays, startMinute, endMinute, workBandwidth, nonWorkBandwidth));
        }

        internal static void AgentSetNoThrottle(AgentHandle agent)
        {
            Check(NativeMethods.ob_agent_set_no_throttle(agent));
        }

        // policy.h

        private const int NotFound = -3;
        private const int Corrupt = -7;

        /// <summary>Splits newline-separated native text into its non-empty lines.</summary>
        private static string[] Lines(string text)
        {
            if (string.IsNullOrEmpty(text))
                return new string[0];
            return text.Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries);
        }

        /// <summary>The normalised form of a file spec (absolute, wildcards only in the last component).</summary>
        internal static string FileSpecCheck(string spec, bool isExclude)
        {
            IntPtr normalized;
            int rc = NativeMethods.ob_filespec_check(out normalized, Utf8.ToNative(spec), isExclude ? 1 : 0);
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_str_free(normalized);
                throw failure;
            }
            return Utf8.TakeOwned(normalized);
        }

        /// <summary>Commit the policy made of these specs, in this order.</summary>
        internal static PolicyHandle PolicyCommit(AgentHandle agent, IList<PolicyFileSpecInfo> specs)
        {
            var raw = new ObFileSpecInputNative[specs.Count];
            try
            {
                for (int i = 0; i < specs.Count; i++)
                {
                    byte[] bytes = Utf8.ToNative(specs[i].Spec);
                    raw[i].spec = Marshal.AllocHGlobal(bytes.Length);
                    Marshal.Copy(bytes, 0, raw[i].spec, bytes.Length);
                    raw[i].is_exclude = specs[i].IsExclude ? 1 : 0;
                    raw[i].is_recursive = specs[i].IsRecursive ? 1 : 0;
                }
                PolicyHandle policy;
                int rc = NativeMethods.ob_policy_commit(out policy, agent, raw, new UIntPtr((uint)raw.Length));
                if (rc < 0)
                {
                    OBAgentException failure = Failure(rc);
                    policy.Dispose();
                    throw failure;
                }
                return policy;
            }
            finally
            {
                foreach (ObFileSpecInputNative r in raw)
                {
                    if (r.spec != IntPtr.Zero)
                        Marshal.FreeHGlobal(r.spec);
                }
            }
        }

        /// <summary>The committed policy, or null when there is none.</summary>
        internal static PolicyHandle PolicyGet(AgentHandle agent)
        {
            PolicyHandle policy;
            int rc = NativeMethods.ob_policy_get(out policy, agent);
            if (rc == NotFound)
            {
                policy.Dispose();
                NativeMethods.ob_error_clear();
                return null;
            }
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                policy.Dispose();
                throw failure;
            }
            return policy;
        }

        internal static void PolicySetState(AgentHandle agent, int state)
        {
            Check(NativeMethods.ob_policy_set_state(agent, state));
        }

        internal static void PolicyRemove(AgentHandle agent, bool deleteBackup)
        {
            Check(NativeMethods.ob_policy_remove(agent, deleteBackup ? 1 : 0));
        }

        /// <summary>Soft-delete every recovery point of a kind ("FileFolder", "SystemState") after checking the PIN.</summary>
        internal static void PolicyDeleteBackups(AgentHandle agent, string kind, string securityPin)
        {
            Check(NativeMethods.ob_policy_delete_backups(agent, Utf8.ToNative(kind), Utf8.ToNative(securityPin)));
        }

        /// <summary>Commit the System State policy with a schedule and a retention (null leaves that part out).</summary>
        internal static PolicyHandle SystemStatePolicyCommit(AgentHandle agent, ScheduleInfo schedule, RetentionInfo retention)
        {
            using (var s = StructBuffer<ObScheduleNative>.Of(schedule == null ? (ObScheduleNative?)null : ToNative(schedule)))
            using (var r = StructBuffer<ObRetentionNative>.Of(retention == null ? (ObRetentionNative?)null : ToNative(retention)))
            {
                PolicyHandle policy;
                int rc = NativeMethods.ob_systemstate_policy_commit(out policy, agent, s.Pointer, r.Pointer);
                if (rc < 0)
                {
                    OBAgentException failure = Failure(rc);
                    policy.Dispose();
                    throw failure;
                }
                return policy;
            }
        }

        /// <summary>The committed System State policy, or null when there is none.</summary>
        internal static PolicyHandle SystemStatePolicyGet(AgentHandle agent)
        {
            PolicyHandle policy;
            int rc = NativeMethods.ob_systemstate_policy_get(out policy, agent);
            if (rc == NotFound)
            {
                policy.Dispose();
                NativeMethods.ob_error_clear();
                return null;
            }
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                policy.Dispose();
                throw failure;
            }
            return policy;
        }

        internal static void SystemStatePolicyRemove(AgentHandle agent, bool deleteBackup, string securityPin)
        {
            Check(NativeMethods.ob_systemstate_policy_remove(agent, deleteBackup ? 1 : 0, Utf8.ToNative(securityPin)));
        }

        internal static string PolicyName(PolicyHandle policy)
        {
            return Utf8.FromNative(NativeMethods.ob_policy_name(policy));
        }

        internal static int PolicyState(PolicyHandle policy)
        {
            return NativeMethods.ob_policy_state_get(policy);
        }

        internal static int PolicyDatasourceCount(PolicyHandle policy)
        {
            return (int)NativeMethods.ob_policy_datasource_count(policy).ToUInt32();
        }

        internal static long PolicyDatasourceId(PolicyHandle policy, int ds)
        {
            return NativeMethods.ob_policy_datasource_id(policy, new UIntPtr((uint)ds));
        }

        internal static string PolicyDatasourceName(PolicyHandle policy, int ds)
        {
            return Utf8.FromNative(NativeMethods.ob_policy_datasource_name(policy, new UIntPtr((uint)ds)));
        }

        internal static int PolicyFilespecCount(PolicyHandle policy, int ds)
        {
            return (int)NativeMethods.ob_policy_filespec_count(policy, new UIntPtr((uint)ds)).ToUInt32();
        }

        internal static PolicyFileSpecInfo PolicyFilespec(PolicyHandle policy, int ds, int index)
        {
            IntPtr spec;
            int isExclude, isRecursive;
            Check(NativeMethods.ob_policy_filespec(policy, new UIntPtr((uint)ds), new UIntPtr((uint)index),
                out spec, out isExclude, out isRecursive));
            return new PolicyFileSpecInfo { Spec = Utf8.FromNative(spec), IsExclude = isExclude != 0, IsRecursive = isRecursive != 0 };
        }

        /// <summary>
        /// Attach a schedule and a retention policy to the committed policy (null removes that
        /// part); the engine validates both, the retention against the schedule.
        /// </summary>
        internal static void PolicySetProtection(AgentHandle agent, ScheduleInfo schedule, RetentionInfo retention)
        {
            using (var s = StructBuffer<ObScheduleNative>.Of(schedule == null ? (ObScheduleNative?)null : ToNative(schedule)))
            using (var r = StructBuffer<ObRetentionNative>.Of(retention == null ? (ObRetentionNative?)null : ToNative(retention)))
            {
                Check(NativeMethods.ob_policy_set_protection(agent, s.Pointer, r.Pointer));
            }
        }

        /// <summary>The committed policy's schedule, or null when it has none.</summary>
        internal static ScheduleInfo PolicySchedule(PolicyHandle policy)
        {
            using (var s = StructBuffer<ObScheduleNative>.Of(ToNative(new ScheduleInfo { Times = new int[0] })))
            {
                int rc = NativeMethods.ob_policy_schedule(s.Pointer, policy);
                if (rc == NotFound)
                {
                    NativeMethods.ob_error_clear();
                    return null;
                }
                Check(rc);
                return FromNative(s.Read());
            }
        }

        /// <summary>The committed policy's retention, or null when it has none.</summary>
        internal static RetentionInfo PolicyRetention(PolicyHandle policy)
        {
            using (var r = StructBuffer<ObRetentionNative>.Of(ToNative(new RetentionInfo())))
            {
                int rc = NativeMethods.ob_policy_retention(r.Pointer, policy);
                if (rc == NotFound)
                {
                    NativeMethods.ob_error_clear();
                    return null;
                }
                Check(rc);
                return FromNative(r.Read());
            }
        }

        // schedule.h

        /// <summary>Validate a schedule (ob_schedule_validate); returns it normalised (times sorted).</summary>
        internal static ScheduleInfo ScheduleValidate(ScheduleInfo schedule)
        {
            using (var s = StructBuffer<ObScheduleNative>.Of(ToNative(schedule)))
            {
                Check(NativeMethods.ob_schedule_validate(s.Pointer));
                return FromNative(s.Read());
            }
        }

        /// <summary>Validate a retention policy (ob_retention_validate), against a schedule when one is given.</summary>
        internal static void RetentionValidate(RetentionInfo retention, ScheduleInfo schedule)
        {
            using (var r = StructBuffer<ObRetentionNative>.Of(ToNative(retention)))
            using (var s = StructBuffer<ObScheduleNative>.Of(schedule == null ? (ObScheduleNative?)null : ToNative(schedule)))
            {
                Check(NativeMethods.ob_retention_validate(r.Pointer, s.Pointer));
            }
        }

        private const uint ScheduleVersion = 1, RetentionVersion = 1;

        /// <summary>The struct's fixed times array and its count (which may exceed the array).</summary>
        private static int[] FixedTimes(int[] times, out UIntPtr count)
        {
            var slots = new int[ObScheduleNative.MaxTimes];
            int n = times == null ? 0 : times.Length;
            Array.Copy(times ?? new int[0], slots, Math.Min(n, slots.Length));
            count = new UIntPtr((uint)n);
            return slots;
        }

        private static int[] TimesOf(int[] slots, UIntPtr count)
        {
            int n = (int)Math.Min(count.ToUInt64(), (ulong)ObScheduleNative.MaxTimes);
            var times = new int[n];
            Array.Copy(slots, times, n);
            return times;
        }

        private static ObScheduleNative ToNative(ScheduleInfo s)
        {
            var raw = new ObScheduleNative
            {
                version = ScheduleVersion,
                days = s.Days,
                weekly_frequency = s.WeeklyFrequency,
                anchor_date = s.AnchorDate,
                system_state = s.SystemState ? 1 : 0,
            };
            raw.times = FixedTimes(s.Times, out raw.time_count);
            return raw;
        }

        private static ScheduleInfo FromNative(ObScheduleNative raw)
        {
            return new ScheduleInfo
            {
                Days = raw.days,
                Times = TimesOf(raw.times, raw.time_count),
                WeeklyFrequency = raw.weekly_frequency,
                AnchorDate = raw.anchor_date,
                SystemState = raw.system_state != 0,
            };
        }

        private static ObRetentionRuleNative ToNative(RetentionRuleInfo r)
        {
            if (r == null)
                return new ObRetentionRuleNative { times = new int[ObScheduleNative.MaxTimes] };
            var raw = new ObRetentionRuleNative
            {
                count = r.Count,
                days_of_week = r.DaysOfWeek,
                weeks_of_month = r.WeeksOfMonth,
                days_of_month = r.DaysOfMonth,
                months_of_year = r.MonthsOfYear,
            };
            raw.times = FixedTimes(r.Times, out raw.time_count);
            return raw;
        }

        private static RetentionRuleInfo FromNative(ObRetentionRuleNative raw)
        {
            if (raw.count == 0)
                return null;
            return new RetentionRuleInfo
            {
                Count = raw.count,
                DaysOfWeek = raw.days_of_week,
                WeeksOfMonth = raw.weeks_of_month,
                DaysOfMonth = raw.days_of_month,
                MonthsOfYear = raw.months_of_year,
                Times = TimesOf(raw.times, raw.time_count),
            };
        }

        private static ObRetentionNative ToNative(RetentionInfo r)
        {
            return new ObRetentionNative
            {
                version = RetentionVersion,
                days = r.Days,
                weekly = ToNative(r.Weekly),
                monthly = ToNative(r.Monthly),
                yearly = ToNative(r.Yearly),
            };
        }

        private static RetentionInfo FromNative(ObRetentionNative raw)
        {
            return new RetentionInfo
            {
                Days = raw.days,
                Weekly = FromNative(raw.weekly),
                Monthly = FromNative(raw.monthly),
                Yearly = FromNative(raw.yearly),
            };
        }

        /// <summary>An unmanaged copy of a struct for one call (IntPtr.Zero for "no struct"), freed on Dispose.</summary>
        private sealed class StructBuffer<T> : IDisposable where T : struct
        {
            internal IntPtr Pointer { get; private set; }

            internal static StructBuffer<T> Of(T? value)
            {
                var b = new StructBuffer<T>();
                if (value.HasValue)
                {
                    b.Pointer = Marshal.AllocHGlobal(Marshal.SizeOf<T>());
                    Marshal.StructureToPtr(value.Value, b.Pointer, false);
                }
                return b;
            }

            internal T Read()
            {
                return Marshal.PtrToStructure<T>(Pointer);
            }

            public void Dispose()
            {
                if (Pointer != IntPtr.Zero)
                {
                    Marshal.FreeHGlobal(Pointer);
                    Pointer = IntPtr.Zero;
                }
            }
        }

        // job.h

        internal static string JobStateName(int state)
        {
            return Utf8.FromNative(NativeMethods.ob_job_state_name(state));
        }

        private static JobInfo ReadJob(IntPtr p)
        {
            var raw = (ObJobInfoNative)Marshal.PtrToStructure(p, typeof(ObJobInfoNative));
            return new JobInfo
            {
                JobId = Utf8.FromNative(raw.job_id),
                Type = raw.type,
                State = raw.state,
                StartTime = raw.start_time,
                EndTime = raw.end_time,
                Phase = Utf8.FromNative(raw.phase),
                ErrorCode = raw.error_code,
                ErrorMessage = Utf8.FromNative(raw.error_message),
                FilesScanned = raw.files_scanned,
                FilesDone = raw.files_done,
                FilesFailed = raw.files_failed,
                BytesScanned = raw.bytes_scanned,
                BytesDone = raw.bytes_done,
                BytesUploaded = raw.bytes_uploaded,
                PercentComplete = NativeMethods.ob_job_percent_complete(p),
                DatasourceId = raw.datasource_id,
                Datasources = Lines(Utf8.FromNative(raw.datasources)),
                RecoveryPoint = Utf8.FromNative(raw.recovery_point),
            };
        }

        private static JobInfo TakeJob(int rc, IntPtr p)
        {
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_job_info_free(p);
                throw failure;
            }
            try
            {
                return ReadJob(p);
            }
            finally
            {
                NativeMethods.ob_job_info_free(p);
            }
        }

        /// <summary>Start a backup job of the committed policy; retainUntil in seconds since 1970 UTC, 0 for none.</summary>
        internal static JobInfo BackupStart(AgentHandle agent, long retainUntil)
        {
            IntPtr p;
            int rc = NativeMethods.ob_backup_start(out p, agent, retainUntil);
            return TakeJob(rc, p);
        }

        /// <summary>Start a System State backup job (capture, then back up the capture).</summary>
        internal static JobInfo SystemStateBackupStart(AgentHandle agent)
        {
            IntPtr p;
            int rc = NativeMethods.ob_systemstate_backup_start(out p, agent);
            return TakeJob(rc, p);
        }

        internal static JobInfo JobGet(AgentHandle agent, string jobId)
        {
            IntPtr p;
            int rc = NativeMethods.ob_job_get(out p, agent, Utf8.ToNative(jobId));
            return TakeJob(rc, p);
        }

        /// <summary>The job once it has ended, or as it stands after timeoutMs (it returns at the job's end, not after a fixed sleep).</summary>
        internal static JobInfo JobWait(AgentHandle agent, string jobId, int timeoutMs)
        {
            IntPtr p;
            int rc = NativeMethods.ob_job_wait(out p, agent, Utf8.ToNative(jobId), (uint)Math.Max(0, timeoutMs));
            return TakeJob(rc, p);
        }

        /// <summary>The job in progress, or null when none is.</summary>
        internal static JobInfo JobCurrent(AgentHandle agent)
        {
            IntPtr p;
            int rc = NativeMethods.ob_job_current(out p, agent);
            if (rc == NotFound)
            {
                NativeMethods.ob_job_info_free(p);
                NativeMethods.ob_error_clear();
                return null;
            }
            return TakeJob(rc, p);
        }

        /// <summary>The newest max finished jobs, newest first; filter as ob_job_filter.</summary>
        internal static List<JobInfo> JobList(AgentHandle agent, uint max, int filter)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_job_list(out list, out count, agent, new UIntPtr(max), filter);
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_job_list_free(list, count);
                throw failure;
            }
            try
            {
                var jobs = new List<JobInfo>();
                for (ulong i = 0; i < count.ToUInt64(); i++)
                    jobs.Add(ReadJob(Marshal.ReadIntPtr(list, (int)i * IntPtr.Size)));
                return jobs;
            }
            finally
            {
                NativeMethods.ob_job_list_free(list, count);
            }
        }

        internal static void JobStop(AgentHandle agent, string jobId)
        {
            Check(NativeMethods.ob_job_stop(agent, Utf8.ToNative(jobId)));
        }

        internal static List<OBFailedFile> JobFailedFiles(AgentHandle agent, string jobId)
        {
            IntPtr text;
            int rc = NativeMethods.ob_job_failed_files(out text, agent, Utf8.ToNative(jobId));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_str_free(text);
                throw failure;
            }
            return ParseFailures(Utf8.TakeOwned(text));
        }

        /// <summary>"path&lt;TAB&gt;reason" lines as OBFailedFile objects.</summary>
        private static List<OBFailedFile> ParseFailures(string text)
        {
            var files = new List<OBFailedFile>();
            foreach (string line in Lines(text))
            {
                int tab = line.IndexOf('\t');
                files.Add(tab < 0 ? new OBFailedFile { Path = line, Reason = "" }
                    : new OBFailedFile { Path = line.Substring(0, tab), Reason = line.Substring(tab + 1) });
            }
            return files;
        }

        // recovery.h

        internal static List<RecoveryPointInfo> RecoveryPoints(AgentHandle agent)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_recovery_points(out list, out count, agent);
            return TakePoints(rc, list, count);
        }

        /// <summary>This server's recovery points with the soft-deleted ones (DeletedAt set).</summary>
        internal static List<RecoveryPointInfo> RecoveryPointsAll(AgentHandle agent)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_recovery_points_all(out list, out count, agent);
            return TakePoints(rc, list, count);
        }

        /// <summary>Soft-delete a recovery point of this server, after the engine checks the security PIN.</summary>
        internal static void RecoveryPointRemove(AgentHandle agent, string pointId, string reason, string securityPin)
        {
            Check(NativeMethods.ob_recovery_point_remove(agent, Utf8.ToNative(pointId), Utf8.ToNative(reason),
                Utf8.ToNative(securityPin)));
        }

        /// <summary>Run vault maintenance; graceSeconds -1 for the engine's default, ownerKey for an Azure vault.</summary>
        internal static MaintenanceReportInfo MaintenanceRun(AgentHandle agent, long graceSeconds, string ownerKey)
        {
            var allocated = new List<IntPtr>();
            IntPtr report = IntPtr.Zero;
            try
            {
                var opts = new ObMaintenanceOptionsNative
                {
                    version = 1,
                    grace_seconds = graceSeconds,
                    repack_percent = 0,
                    owner_key = Unmanaged(ownerKey, allocated),
                };
                int rc = NativeMethods.ob_maintenance_run(out report, agent, ref opts);
                if (rc < 0)
                    throw Failure(rc);
                var raw = (ObMaintenanceReportNative)Marshal.PtrToStructure(report, typeof(ObMaintenanceReportNative));
                return new MaintenanceReportInfo
                {
                    PointsPurged = raw.points_purged,
                    PacksMarked = raw.packs_marked,
                    PacksDeleted = raw.packs_deleted,
                    PacksRepacked = raw.packs_repacked,
                    BytesReclaimed = raw.bytes_reclaimed,
                    BytesInUse = raw.bytes_in_use,
                };
            }
            finally
            {
                if (report != IntPtr.Zero)
                    NativeMethods.ob_str_free(report);
                foreach (IntPtr a in allocated)
                {
                    int n = 0;
                    while (Marshal.ReadByte(a, n) != 0)
                        Marshal.WriteByte(a, n++, 0);
                    Marshal.FreeHGlobal(a);
                }
            }
        }

        /// <summary>Read (then free) an array from ob_recovery_points or ob_recovery_list_points.</summary>
        private static List<RecoveryPointInfo> TakePoints(int rc, IntPtr list, UIntPtr count)
        {
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_recovery_points_free(list, count);
                throw failure;
            }
            try
            {
                var points = new List<RecoveryPointInfo>();
                for (ulong i = 0; i < count.ToUInt64(); i++)
                {
                    IntPtr p = Marshal.ReadIntPtr(list, (int)i * IntPtr.Size);
                    var raw = (ObRecoveryPointNative)Marshal.PtrToStructure(p, typeof(ObRecoveryPointNative));
                    var ids = new List<long>();
                    foreach (string id in Lines(Utf8.FromNative(raw.datasource_ids)))
                    {
                        long v;
                        if (long.TryParse(id, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out v))
                            ids.Add(v);
                    }
                    points.Add(new RecoveryPointInfo
                    {
                        Id = Utf8.FromNative(raw.id),
                        BackupTime = raw.backup_time,
                        ServerName = Utf8.FromNative(raw.server_name),
                        Kind = Utf8.FromNative(raw.kind),
                        Datasources = Lines(Utf8.FromNative(raw.datasources)),
                        DatasourceIds = ids.ToArray(),
                        Files = raw.files,
                        Bytes = raw.bytes,
                        RetainUntil = raw.retain_until,
                        JobId = Utf8.FromNative(raw.job_id),
                        DeletedAt = raw.deleted_at,
                        PurgeAfter = raw.purge_after,
                        Damaged = raw.version >= 2 && raw.damaged != 0,
                        Problem = raw.version >= 2 ? Utf8.FromNative(raw.problem) : null,
                    });
                }
                return points;
            }
            finally
            {
                NativeMethods.ob_recovery_points_free(list, count);
            }
        }

        internal static ulong MachineUsage(AgentHandle agent)
        {
            ulong bytes;
            Check(NativeMethods.ob_machine_usage(out bytes, agent));
            return bytes;
        }

        /// <summary>Every server registered to this server's vault, this one included (flagged).</summary>
        internal static List<BackupServerInfo> BackupServers(AgentHandle agent)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_backup_servers(out list, out count, agent);
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_backup_servers_free(list, count);
                throw failure;
            }
            try
            {
                var servers = new List<BackupServerInfo>();
                for (ulong i = 0; i < count.ToUInt64(); i++)
                {
                    IntPtr p = Marshal.ReadIntPtr(list, (int)i * IntPtr.Size);
                    var raw = (ObBackupServerNative)Marshal.PtrToStructure(p, typeof(ObBackupServerNative));
                    servers.Add(new BackupServerInfo
                    {
                        ServerName = Utf8.FromNative(raw.server_name),
                        ServerId = Utf8.FromNative(raw.server_id),
                        RegisteredAt = raw.registered_at,
                        IsThisServer = raw.is_this_server != 0,
                    });
                }
                return servers;
            }
            finally
            {
                NativeMethods.ob_backup_servers_free(list, count);
            }
        }

        /// <summary>The data sources with recovery points of a server (null: this server).</summary>
        internal static List<RecoverySourceInfo> RecoverySources(AgentHandle agent, string serverName)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_recovery_sources(out list, out count, agent, Utf8.ToNative(serverName));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_recovery_sources_free(list, count);
                throw failure;
            }
            try
            {
                var sources = new List<RecoverySourceInfo>();
                for (ulong i = 0; i < count.ToUInt64(); i++)
                {
                    IntPtr p = Marshal.ReadIntPtr(list, (int)i * IntPtr.Size);
                    var raw = (ObRecoverySourceNative)Marshal.PtrToStructure(p, typeof(ObRecoverySourceNative));
                    sources.Add(new RecoverySourceInfo
                    {
                        ServerName = Utf8.FromNative(raw.server_name),
                        DatasourceId = raw.datasource_id,
                        Name = Utf8.FromNative(raw.name),
                        Kind = Utf8.FromNative(raw.kind),
                    });
                }
                return sources;
            }
            finally
            {
                NativeMethods.ob_recovery_sources_free(list, count);
            }
        }

        /// <summary>
        /// A recovery session: this server's (serverName null, passphrase null) or another's, opened
        /// with its passphrase (may be null, then the library says what is missing).
        /// </summary>
        internal static RecoveryHandle RecoveryOpen(AgentHandle agent, string serverName, SecretBytes passphrase)
        {
            RecoveryHandle recovery;
            int rc = NativeMethods.ob_recovery_open(out recovery, agent, Utf8.ToNative(serverName),
                passphrase == null ? IntPtr.Zero : passphrase.Pointer,
                new UIntPtr(passphrase == null ? 0u : (uint)passphrase.Length));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                recovery.Dispose();
                throw failure;
            }
            return recovery;
        }

        internal static List<RecoveryPointInfo> RecoveryListPoints(RecoveryHandle recovery)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_recovery_list_points(out list, out count, recovery);
            return TakePoints(rc, list, count);
        }

        /// <summary>Read (then free) an array from ob_recovery_browse or ob_recovery_search.</summary>
        private static List<RecoverableItemInfo> TakeItems(int rc, IntPtr list, UIntPtr count)
        {
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_recoverable_items_free(list, count);
                throw failure;
            }
            try
            {
                var items = new List<RecoverableItemInfo>();
                for (ulong i = 0; i < count.ToUInt64(); i++)
                {
                    IntPtr p = Marshal.ReadIntPtr(list, (int)i * IntPtr.Size);
                    var raw = (ObRecoverableItemNative)Marshal.PtrToStructure(p, typeof(ObRecoverableItemNative));
                    items.Add(new RecoverableItemInfo
                    {
                        Path = Utf8.FromNative(raw.path),
                        Name = Utf8.FromNative(raw.name),
                        IsDir = raw.is_dir != 0,
                        Size = raw.size,
                        MTime = raw.mtime,
                    });
                }
                return items;
            }
            finally
            {
                NativeMethods.ob_recoverable_items_free(list, count);
            }
        }

        /// <summary>The items of one folder of a point ("" is the data source's root), sorted by name.</summary>
        internal static List<RecoverableItemInfo> RecoveryBrowse(RecoveryHandle recovery, string pointId, long datasourceId, string folder)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_recovery_browse(out list, out count, recovery, Utf8.ToNative(pointId), datasourceId,
                Utf8.ToNative(folder ?? ""));
            return TakeItems(rc, list, count);
        }

        /// <summary>Items below location whose names match pattern, depth first, at most max (0: all).</summary>
        internal static List<RecoverableItemInfo> RecoverySearch(RecoveryHandle recovery, string pointId, long datasourceId,
            string location, string pattern, ulong max)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_recovery_search(out list, out count, recovery, Utf8.ToNative(pointId), datasourceId,
                Utf8.ToNative(location ?? ""), Utf8.ToNative(pattern), new UIntPtr(max));
            return TakeItems(rc, list, count);
        }

        /// <summary>
        /// Read and authenticate everything a point needs. Returns the damage found (path, problem),
        /// empty when healthy; OB_ECORRUPT is a result here, not a failure.
        /// </summary>
        internal static List<OBFailedFile> RecoveryTest(RecoveryHandle recovery, string pointId, out ulong objects)
        {
            IntPtr report;
            int rc = NativeMethods.ob_recovery_test(out report, out objects, recovery, Utf8.ToNative(pointId));
            if (rc < 0 && rc != Corrupt)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_str_free(report);
                throw failure;
            }
            List<OBFailedFile> damage = ParseFailures(Utf8.TakeOwned(report));
            if (rc == Corrupt && damage.Count == 0)
                damage.Add(new OBFailedFile { Path = "", Reason = Utf8.FromNative(NativeMethods.ob_error_last()) });
            if (rc == Corrupt)
                NativeMethods.ob_error_clear();
            return damage;
        }

        /// <summary>Start a recovery job; passphrase only for another server's backups (else null).</summary>
        internal static JobInfo RecoveryStart(AgentHandle agent, RecoveryRequestInfo request, SecretBytes passphrase)
        {
            var allocated = new List<IntPtr>();
            IntPtr items = IntPtr.Zero;
            try
            {
                var raw = new ObRecoveryRequestNative
                {
                    version = 1,
                    server_name = Unmanaged(request.ServerName, allocated),
                    passphrase = passphrase == null ? IntPtr.Zero : passphrase.Pointer,
                    passphrase_len = new UIntPtr(passphrase == null ? 0u : (uint)passphrase.Length),
                    point_id = Unmanaged(request.PointId, allocated),
                    datasource_id = request.DatasourceId,
                    item_count = new UIntPtr((uint)request.Items.Count),
                    destination = Unmanaged(request.Destination, allocated),
                    overwrite = request.Overwrite,
                    skip_security = request.SkipSecurity ? 1 : 0,
                };
                items = Marshal.AllocHGlobal(Math.Max(1, request.Items.Count) * IntPtr.Size);
                for (int i = 0; i < request.Items.Count; i++)
                    Marshal.WriteIntPtr(items, i * IntPtr.Size, Unmanaged(request.Items[i] ?? "", allocated));
                raw.items = items;
                IntPtr p;
                int rc = NativeMethods.ob_recovery_start(out p, agent, ref raw);
                return TakeJob(rc, p);
            }
            finally
            {
                if (items != IntPtr.Zero)
                    Marshal.FreeHGlobal(items);
                foreach (IntPtr a in allocated)
                    Marshal.FreeHGlobal(a);
            }
        }

        /// <summary>A NUL-terminated UTF-8 copy of s in unmanaged memory (IntPtr.Zero for null), recorded in allocated.</summary>
        private static IntPtr Unmanaged(string s, List<IntPtr> allocated)
        {
            byte[] bytes = Utf8.ToNative(s);
            if (bytes == null)
                return IntPtr.Zero;
            IntPtr p = Marshal.AllocHGlobal(bytes.Length);
            allocated.Add(p);
            Marshal.Copy(bytes, 0, p, bytes.Length);
            return p;
        }
    }
}
