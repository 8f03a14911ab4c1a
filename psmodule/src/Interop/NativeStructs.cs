using System;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    /// <summary>struct ob_filespec_input (policy.h); spec is a NUL-terminated UTF-8 string in unmanaged memory.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObFileSpecInputNative
    {
        internal IntPtr spec;
        internal int is_exclude;
        internal int is_recursive;
    }

    /// <summary>
    /// struct ob_schedule (schedule.h), version OB_SCHEDULE_VERSION: 48 bytes on 64-bit platforms
    /// (times at offset 16, anchor_date at 32). size_t is UIntPtr; times has OB_SCHEDULE_MAX_TIMES slots.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObScheduleNative
    {
        internal const int MaxTimes = 3;

        internal uint version;
        internal uint days;
        internal UIntPtr time_count;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = MaxTimes)]
        internal int[] times;
        internal int weekly_frequency;
        internal long anchor_date;
        internal int system_state;
    }

    /// <summary>struct ob_retention_rule (schedule.h): 48 bytes on 64-bit platforms.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObRetentionRuleNative
    {
        internal long count;
        internal uint days_of_week;
        internal uint weeks_of_month;
        internal uint days_of_month;
        internal uint months_of_year;
        internal UIntPtr time_count;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = ObScheduleNative.MaxTimes)]
        internal int[] times;
    }

    /// <summary>struct ob_retention (schedule.h), version OB_RETENTION_VERSION: 160 bytes on 64-bit platforms.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObRetentionNative
    {
        internal uint version;
        internal long days;
        internal ObRetentionRuleNative weekly;
        internal ObRetentionRuleNative monthly;
        internal ObRetentionRuleNative yearly;
    }

    /// <summary>struct ob_job_info (job.h), version OB_JOB_INFO_VERSION.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObJobInfoNative
    {
        internal uint version;
        internal IntPtr job_id;
        internal int type;
        internal int state;
        internal long start_time;
        internal long end_time;
        internal IntPtr phase;
        internal int error_code;
        internal IntPtr error_message;
        internal ulong files_scanned;
        internal ulong files_done;
        internal ulong files_failed;
        internal ulong bytes_scanned;
        internal ulong bytes_done;
        internal ulong bytes_uploaded;
        internal long datasource_id;
        internal IntPtr datasources;
        internal IntPtr recovery_point;
    }

    /// <summary>struct ob_recovery_point (recovery.h), version OB_RECOVERY_POINT_VERSION.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObRecoveryPointNative
    {
        internal uint version;
        internal IntPtr id;
        internal long backup_time;
        internal IntPtr server_name;
        internal IntPtr kind;
        internal IntPtr datasources;
        internal IntPtr datasource_ids;
        internal ulong files;
        internal ulong bytes;
        internal long retain_until;
        internal IntPtr job_id;
        internal long deleted_at;
        internal long purge_after;
        internal int damaged;       // version 2
        internal IntPtr problem;
        internal int point_sealed;  // version 3: "sealed" in recovery.h
    }

    /// <summary>
    /// struct ob_vault_azure_options (vault.h), version OB_VAULT_AZURE_OPTIONS_VERSION. Every pointer
    /// is unmanaged memory owned by the wrapper for the duration of the call (the key is zeroed after).
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObVaultAzureOptionsNative
    {
        internal uint version;
        internal IntPtr endpoint;
        internal IntPtr account;
        internal IntPtr account_key;
        internal IntPtr container;
        internal int access_days;
        internal IntPtr ca_file;
    }

    /// <summary>struct ob_maintenance_options (recovery.h), version OB_MAINTENANCE_OPTIONS_VERSION.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObMaintenanceOptionsNative
    {
        internal uint version;
        internal long grace_seconds;
        internal uint repack_percent;
        internal IntPtr owner_key;
    }

    /// <summary>struct ob_maintenance_report (recovery.h), version OB_MAINTENANCE_REPORT_VERSION.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObMaintenanceReportNative
    {
        internal uint version;
        internal ulong points_purged;
        internal ulong packs_marked;
        internal ulong packs_deleted;
        internal ulong packs_repacked;
        internal ulong bytes_reclaimed;
        internal ulong bytes_in_use;
        internal ulong objects_skipped;
        // version 2 also: char warnings[4096], UTF-8, NUL-terminated, one warning a line
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 4096)]
        internal byte[] warnings;
    }

    /// <summary>struct ob_backup_server (recovery.h), version OB_BACKUP_SERVER_VERSION.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObBackupServerNative
    {
        internal uint version;
        internal IntPtr server_name;
        internal IntPtr server_id;
        internal long registered_at;
        internal int is_this_server;
    }

    /// <summary>struct ob_recovery_source (recovery.h), version OB_RECOVERY_SOURCE_VERSION.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObRecoverySourceNative
    {
        internal uint version;
        internal IntPtr server_name;
        internal long datasource_id;
        internal IntPtr name;
        internal IntPtr kind;
    }

    /// <summary>struct ob_recoverable_item (recovery.h), version OB_RECOVERABLE_ITEM_VERSION.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObRecoverableItemNative
    {
        internal uint version;
        internal IntPtr path;
        internal IntPtr name;
        internal int is_dir;
        internal ulong size;
        internal long mtime;
    }

    /// <summary>
    /// struct ob_recovery_request (recovery.h), version OB_RECOVERY_REQUEST_VERSION (2: with
    /// special_files). Every pointer is unmanaged memory owned by Native.RecoveryStart for the
    /// duration of the call.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObRecoveryRequestNative
    {
        internal uint version;
        internal IntPtr server_name;
        internal IntPtr passphrase;
        internal UIntPtr passphrase_len;
        internal IntPtr point_id;
        internal long datasource_id;
        internal IntPtr items;
        internal UIntPtr item_count;
        internal IntPtr destination;
        internal int overwrite;
        internal int skip_security;
        internal int special_files;
    }

    /// <summary>struct ob_registration (agent.h), version OB_REGISTRATION_VERSION.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObRegistrationNative
    {
        internal uint version;
        internal IntPtr vault_name;
        internal IntPtr vault_id;
        internal IntPtr vault_location;
        internal IntPtr storage_type;
        internal IntPtr server_name;
        internal IntPtr server_id;
        internal long registered_at;
    }

    /// <summary>struct ob_machine_settings (agent.h), version OB_MACHINE_SETTINGS_VERSION.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObMachineSettingsNative
    {
        internal uint version;
        internal int proxy_enabled;
        internal IntPtr proxy_server;
        internal int proxy_port;
        internal IntPtr proxy_username;
        internal int proxy_has_password;
        internal int encryption_key_set;
        internal int throttle_enabled;
        internal uint work_days;
        internal int start_work_minute;
        internal int end_work_minute;
        internal uint work_hour_bandwidth;
        internal uint non_work_hour_bandwidth;
    }

    /// <summary>struct ob_drill_info (drill.h), version OB_DRILL_INFO_VERSION; size_t is UIntPtr.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObDrillInfoNative
    {
        internal uint version;
        internal int scheduled;
        internal uint days;
        internal UIntPtr time_count;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = ObScheduleNative.MaxTimes)]
        internal int[] times;
        internal long next_run;
        internal IntPtr last_job_id;
        internal int last_state;
        internal long last_time;
        internal IntPtr last_message;
        internal ulong sample_files;
        internal ulong sample_bytes;
    }
}
