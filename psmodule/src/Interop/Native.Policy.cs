using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    internal static partial class Native
    {
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
    }
}
