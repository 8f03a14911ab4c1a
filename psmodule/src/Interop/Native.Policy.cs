using System;
using System.Collections.Generic;

namespace OBAgent.Interop
{
    internal static partial class Native
    {
        // policy.h

        /// <summary>The normalised form of a file spec (absolute, wildcards only in the last component).</summary>
        internal static string FileSpecCheck(string spec, bool isExclude)
        {
            return TakeString((out IntPtr normalized) =>
                NativeMethods.ob_filespec_check(out normalized, Utf8.ToNative(spec), isExclude ? 1 : 0));
        }

        /// <summary>Commit the policy made of these specs, in this order.</summary>
        internal static PolicyHandle PolicyCommit(AgentHandle agent, IList<PolicyFileSpecInfo> specs)
        {
            var raw = new ObFileSpecInputNative[specs.Count];
            using (var strings = new UnmanagedScope())
            {
                for (int i = 0; i < specs.Count; i++)
                {
                    raw[i].spec = strings.Add(specs[i].Spec);
                    raw[i].is_exclude = specs[i].IsExclude ? 1 : 0;
                    raw[i].is_recursive = specs[i].IsRecursive ? 1 : 0;
                }
                return Open((out PolicyHandle policy) =>
                    NativeMethods.ob_policy_commit(out policy, agent, raw, new UIntPtr((uint)raw.Length)));
            }
        }

        /// <summary>The committed policy, or null when there is none.</summary>
        internal static PolicyHandle PolicyGet(AgentHandle agent)
        {
            return Open((out PolicyHandle policy) => NativeMethods.ob_policy_get(out policy, agent), ErrorCode.NotFound);
        }

        internal static void PolicySetState(AgentHandle agent, int state)
        {
            Check(NativeMethods.ob_policy_set_state(agent, state));
        }

        internal static void PolicyRemove(AgentHandle agent, bool deleteBackup)
        {
            Check(NativeMethods.ob_policy_remove(agent, deleteBackup ? 1 : 0));
        }

        /// <summary>
        /// Remove the policy of a kind ("FileFolder", "SystemState") keeping its retention rules, so that its
        /// points still age out by them (Remove-OBPolicy -EnablePruning; docs/RETENTION.md, "Pruning").
        /// </summary>
        internal static void PolicyRemovePruning(AgentHandle agent, string kind)
        {
            Check(NativeMethods.ob_policy_remove_pruning(agent, Utf8.ToNative(kind)));
        }

        /// <summary>Soft-delete every recovery point of a kind ("FileFolder", "SystemState") after checking the PIN.</summary>
        internal static void PolicyDeleteBackups(AgentHandle agent, string kind, string securityPin)
        {
            Check(NativeMethods.ob_policy_delete_backups(agent, Utf8.ToNative(kind), Utf8.ToNative(securityPin)));
        }

        /// <summary>Commit the System State policy with a schedule and a retention (null leaves that part out).</summary>
        internal static PolicyHandle SystemStatePolicyCommit(AgentHandle agent, ScheduleInfo schedule, RetentionInfo retention)
        {
            using (StructBuffer<ObScheduleNative> s = ScheduleBuffer(schedule))
            using (StructBuffer<ObRetentionNative> r = RetentionBuffer(retention))
            {
                return Open((out PolicyHandle policy) =>
                    NativeMethods.ob_systemstate_policy_commit(out policy, agent, s.Pointer, r.Pointer));
            }
        }

        /// <summary>The committed System State policy, or null when there is none.</summary>
        internal static PolicyHandle SystemStatePolicyGet(AgentHandle agent)
        {
            return Open((out PolicyHandle policy) => NativeMethods.ob_systemstate_policy_get(out policy, agent), ErrorCode.NotFound);
        }

        /// <summary>Pause or resume the System State policy only (the file policy keeps its state).</summary>
        internal static void SystemStatePolicySetState(AgentHandle agent, int state)
        {
            Check(NativeMethods.ob_systemstate_policy_set_state(agent, state));
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
            return EnginePath.FromNativePointer(NativeMethods.ob_policy_datasource_name(policy, new UIntPtr((uint)ds)));
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
            return new PolicyFileSpecInfo { Spec = EnginePath.FromNativePointer(spec), IsExclude = isExclude != 0, IsRecursive = isRecursive != 0 };
        }

        /// <summary>
        /// Attach a schedule and a retention policy to the committed policy (null removes that
        /// part); the engine validates both, the retention against the schedule.
        /// </summary>
        internal static void PolicySetProtection(AgentHandle agent, ScheduleInfo schedule, RetentionInfo retention)
        {
            using (StructBuffer<ObScheduleNative> s = ScheduleBuffer(schedule))
            using (StructBuffer<ObRetentionNative> r = RetentionBuffer(retention))
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
                if (rc == (int)ErrorCode.NotFound)
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
                if (rc == (int)ErrorCode.NotFound)
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
