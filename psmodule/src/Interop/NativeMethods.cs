using System;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    /// <summary>
    /// Raw declarations of the libobagent C API (include/obagent/*.h), nothing else.
    /// Strings go in as NUL-terminated UTF-8 byte arrays (Utf8.ToNative) and come out as
    /// IntPtr read by Utf8.FromNative; netstandard2.0 has no UTF-8 string marshaller that
    /// Windows PowerShell 5.1 honours. Only the safe wrappers in Native*.cs call these; the structs they take are in NativeStructs.cs.
    /// </summary>
    internal static class NativeMethods
    {
        internal const string Library = "libobagent";

        // common.h
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_init();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_shutdown();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ob_version();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ob_error_last();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_error_last_code();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_error_clear();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ob_error_name(int code);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_env_set(byte[] name, byte[] value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_str_free(IntPtr str);

        // vault.h
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_vault_create(out VaultHandle vault, byte[] path, byte[] name);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_vault_open(out VaultHandle vault, byte[] path);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_vault_free(IntPtr vault);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ob_vault_name(VaultHandle vault);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ob_vault_id(VaultHandle vault);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ob_vault_location(VaultHandle vault);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ob_vault_storage_type(VaultHandle vault);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern long ob_vault_created(VaultHandle vault);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_vault_format_version(VaultHandle vault);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_vault_server_count(out UIntPtr count, VaultHandle vault);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_vault_credentials_issue(out IntPtr path, VaultHandle vault, byte[] outputDir, int validityDays);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_vault_security_pin_new(out IntPtr pin, out long expires, VaultHandle vault);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_vault_create_azure(out VaultHandle vault, byte[] name, ref ObVaultAzureOptionsNative options);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_vault_open_azure(out VaultHandle vault, ref ObVaultAzureOptionsNative options);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_vault_undelete(VaultHandle vault, byte[] serverName, byte[] pointId);

        // agent.h
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_agent_open(out AgentHandle agent, byte[] home);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_agent_free(IntPtr agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ob_agent_home(AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ob_agent_server_name(AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_agent_register(out IntPtr registration, AgentHandle agent, byte[] credentialsPath);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_credentials_vault(out IntPtr vaultId, out IntPtr vaultName, byte[] credentialsPath);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_agent_registration(out IntPtr registration, AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_registration_free(IntPtr registration);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_agent_set_passphrase(AgentHandle agent, IntPtr passphrase, UIntPtr passphraseLength, byte[] securityPin);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_agent_check_passphrase(AgentHandle agent, IntPtr passphrase, UIntPtr passphraseLength);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_agent_settings(out IntPtr settings, AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_machine_settings_free(IntPtr settings);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_agent_set_proxy(AgentHandle agent, byte[] server, int port, byte[] username, IntPtr password, UIntPtr passwordLength);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_agent_set_no_proxy(AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_agent_set_throttle(AgentHandle agent, uint workDays, int startMinute, int endMinute, uint workBandwidth, uint nonWorkBandwidth);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_agent_set_no_throttle(AgentHandle agent);

        // policy.h
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_filespec_check(out IntPtr normalized, byte[] spec, int isExclude);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_policy_commit(out PolicyHandle policy, AgentHandle agent, [In] ObFileSpecInputNative[] specs, UIntPtr count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_policy_get(out PolicyHandle policy, AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_policy_set_state(AgentHandle agent, int state);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_policy_remove(AgentHandle agent, int deleteBackup);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_policy_remove_pruning(AgentHandle agent, byte[] kind);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_policy_delete_backups(AgentHandle agent, byte[] kind, byte[] securityPin);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_systemstate_policy_commit(out PolicyHandle policy, AgentHandle agent, IntPtr schedule, IntPtr retention);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_systemstate_policy_get(out PolicyHandle policy, AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_systemstate_policy_set_state(AgentHandle agent, int state);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_systemstate_policy_remove(AgentHandle agent, int deleteBackup, byte[] securityPin);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_policy_free(IntPtr policy);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ob_policy_name(PolicyHandle policy);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_policy_state_get(PolicyHandle policy);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr ob_policy_datasource_count(PolicyHandle policy);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern long ob_policy_datasource_id(PolicyHandle policy, UIntPtr ds);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ob_policy_datasource_name(PolicyHandle policy, UIntPtr ds);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr ob_policy_filespec_count(PolicyHandle policy, UIntPtr ds);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_policy_filespec(PolicyHandle policy, UIntPtr ds, UIntPtr index,
            out IntPtr spec, out int isExclude, out int isRecursive);

        // The schedule and retention structs travel as unmanaged copies (ObScheduleNative,
        // ObRetentionNative written with Marshal.StructureToPtr) so that NULL can be passed too.
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_policy_set_protection(AgentHandle agent, IntPtr schedule, IntPtr retention);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_policy_schedule(IntPtr schedule, PolicyHandle policy);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_policy_retention(IntPtr retention, PolicyHandle policy);

        // schedule.h
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_schedule_validate(IntPtr schedule);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_retention_validate(IntPtr retention, IntPtr schedule);

        // job.h
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ob_job_state_name(int state);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_job_percent_complete(IntPtr info);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_job_phase_lines([Out] IntPtr[] lines, UIntPtr max, ref int written, byte[] phase);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_job_info_free(IntPtr info);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_job_list_free(IntPtr list, UIntPtr count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_backup_start(out IntPtr info, AgentHandle agent, long retainUntil);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_systemstate_backup_start(out IntPtr info, AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_job_get(out IntPtr info, AgentHandle agent, byte[] jobId);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_job_wait(out IntPtr info, AgentHandle agent, byte[] jobId, uint timeoutMs);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_job_current(out IntPtr info, AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_schedule_next_run(out long next, AgentHandle agent, int systemState);

        // drill.h
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_drill_start(out IntPtr info, AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_drill_get(out IntPtr info, AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_drill_info_free(IntPtr info);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_drill_schedule_set(AgentHandle agent, uint days, int[] times, UIntPtr timeCount);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_job_list(out IntPtr list, out UIntPtr count, AgentHandle agent, UIntPtr max, int filter);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_job_stop(AgentHandle agent, byte[] jobId);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_job_failed_files(out IntPtr text, AgentHandle agent, byte[] jobId);

        // recovery.h
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_points(out IntPtr list, out UIntPtr count, AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_recovery_points_free(IntPtr list, UIntPtr count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_machine_usage(out ulong bytes, AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_points_all(out IntPtr list, out UIntPtr count, AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_point_remove(AgentHandle agent, byte[] pointId, byte[] reason, byte[] securityPin);

        // The report is freed with free(); ob_str_free is free() (init.c).
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_maintenance_run(out IntPtr report, AgentHandle agent, ref ObMaintenanceOptionsNative options);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_backup_servers(out IntPtr list, out UIntPtr count, AgentHandle agent);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_backup_servers_free(IntPtr list, UIntPtr count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_sources(out IntPtr list, out UIntPtr count, AgentHandle agent, byte[] serverName);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_recovery_sources_free(IntPtr list, UIntPtr count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_points_of(out IntPtr list, out UIntPtr count, AgentHandle agent, byte[] serverName);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_open(out RecoveryHandle recovery, AgentHandle agent, byte[] serverName,
            IntPtr passphrase, UIntPtr passphraseLength);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_recovery_free(IntPtr recovery);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_list_points(out IntPtr list, out UIntPtr count, RecoveryHandle recovery);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void ob_recoverable_items_free(IntPtr list, UIntPtr count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_browse(out IntPtr list, out UIntPtr count, RecoveryHandle recovery,
            byte[] pointId, long datasourceId, byte[] folder);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_search(out IntPtr list, out UIntPtr count, RecoveryHandle recovery,
            byte[] pointId, long datasourceId, byte[] location, byte[] pattern, UIntPtr max);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_test(out IntPtr report, out ulong objects, RecoveryHandle recovery, byte[] pointId);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_warnings(out IntPtr text, RecoveryHandle recovery);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_start(out IntPtr info, AgentHandle agent, ref ObRecoveryRequestNative request);
    }
}
