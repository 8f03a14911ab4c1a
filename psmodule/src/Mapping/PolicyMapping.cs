using System.Collections.Generic;
using System.IO;
using OBAgent.Interop;

namespace OBAgent.Mapping
{
    /// <summary>
    /// Committed policies as OBPolicy objects, and file specs as OBFileSpec objects. Committed is
    /// the one way to read this server's committed policy; CommittedSystemState reads the System
    /// State policy (another policy of the engine's, with its own calls).
    /// </summary>
    internal static class PolicyMapping
    {
        /// <summary>OB_SYSTEMSTATE_DATASOURCE_ID (policy.h).</summary>
        internal const long SystemStateDatasourceId = 1;

        /// <summary>An OBFileSpec for a checked spec: the folder and name parts the way MSOnlineBackup shows them.</summary>
        internal static OBFileSpec MakeFileSpec(string typed, string normalized, bool isExclude, bool isRecursive)
        {
            int slash = normalized.LastIndexOf('/');
            string last = normalized == "/" || slash < 0 ? "" : normalized.Substring(slash + 1);
            string parent = slash <= 0 ? "/" : normalized.Substring(0, slash);
            bool wild = last.IndexOfAny(new[] { '*', '?' }) >= 0;
            // The engine's form stays in NormalizedPath (it goes back to the engine); people and .NET get the native one.
            string native = EnginePath.ToNative(normalized);
            bool folder = !wild && (last.Length == 0 || Directory.Exists(native) || !File.Exists(native));
            return new OBFileSpec
            {
                FileSpec = typed,
                NormalizedPath = normalized,
                FilePath = EnginePath.ToNative(folder ? normalized : parent),
                FileName = folder ? "*" : last,
                IsExclude = isExclude,
                IsRecursive = isRecursive,
            };
        }

        /// <summary>A committed policy as an OBPolicy (State Existing): name, state, data sources and file specs.</summary>
        private static OBPolicy FromHandle(PolicyHandle policy)
        {
            var list = new List<OBDataSource>();
            int count = Native.PolicyDatasourceCount(policy);
            for (int ds = 0; ds < count; ds++)
            {
                var specs = new List<OBFileSpec>();
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

        /// <summary>Fill a committed policy's BackupSchedule and RetentionPolicy from the engine (State Existing).</summary>
        private static void FillProtection(OBPolicy target, PolicyHandle policy)
        {
            ScheduleInfo s = Native.PolicySchedule(policy);
            RetentionInfo r = Native.PolicyRetention(policy);
            target.BackupSchedule = s == null ? null : Protection.FromInfo(s, target.PolicyName, PolicyObjectState.Existing);
            target.RetentionPolicy = r == null ? null : Protection.FromInfo(r, target.PolicyName, PolicyObjectState.Existing);
        }

        /// <summary>
        /// The committed policy of this server, or null when there is none. withProtection reads its
        /// schedule and retention as well: Get-OBPolicy and Set-OBPolicy show them; the job and state
        /// cmdlets need only the name, the state and the data sources, and read no more than that.
        /// </summary>
        internal static OBPolicy Committed(AgentHandle agent, bool withProtection)
        {
            using (PolicyHandle policy = Native.PolicyGet(agent))
            {
                if (policy == null)
                    return null;
                OBPolicy p = FromHandle(policy);
                if (withProtection)
                    FillProtection(p, policy);
                return p;
            }
        }

        /// <summary>A committed System State policy as an OBPolicy: schedule, retention and the "System State" data source.</summary>
        internal static OBPolicy ToSystemStatePolicy(PolicyHandle policy)
        {
            OBPolicy p = FromHandle(policy);
            p.MarkSystemState(SystemStateDatasourceId);
            FillProtection(p, policy);
            return p;
        }

        /// <summary>The committed System State policy, or null when there is none.</summary>
        internal static OBPolicy CommittedSystemState(AgentHandle agent)
        {
            using (PolicyHandle policy = Native.SystemStatePolicyGet(agent))
            {
                return policy == null ? null : ToSystemStatePolicy(policy);
            }
        }
    }
}
