using System.Collections.Generic;
using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Set-OBPolicy: commit a policy as this server's file and folder policy, replacing the previous
    /// one. Returns the committed policy (State Existing, a GUID PolicyName, data source ids). The
    /// policy object's PolicyState (Set-OBPolicyState), BackupSchedule (Set-OBSchedule) and
    /// RetentionPolicy (Set-OBRetentionPolicy) are committed with it (ob_policy_set_protection; a
    /// part that is $null is removed). Both are validated first (ob_schedule_validate,
    /// ob_retention_validate against the schedule): a refusal commits nothing. An inclusion that does
    /// not exist now is committed with a warning (as MARS does): backups list it as missing.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "OBPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(OBPolicy))]
    public sealed class SetOBPolicyCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        protected override void Execute()
        {
            string action = string.Format("Replace the backup policy of this server with a policy of {0} file spec(s)", Policy.Specs.Count);
            if (!ShouldProcess(ServerNameHint(), action))
                return;
            var specs = new List<PolicyFileSpecInfo>();
            foreach (OBFileSpec s in Policy.Specs)
                WarnIfMissing(s);
            foreach (OBFileSpec s in Policy.Specs)
                specs.Add(new PolicyFileSpecInfo { Spec = s.NormalizedPath ?? s.FileSpec, IsExclude = s.IsExclude, IsRecursive = s.IsRecursive });

            // The schedule and retention are checked before anything is committed, so that a bad
            // pair (a long-term time the schedule does not run at) leaves the previous policy as it was.
            ScheduleInfo schedule;
            RetentionInfo retention;
            try
            {
                schedule = Protection.ToInfo(Policy.BackupSchedule);
                retention = Protection.ToInfo(Policy.RetentionPolicy);
            }
            catch (Protection.Refusal ex)
            {
                ThrowError(ex.Message, ex.ErrorId, ErrorCategory.InvalidArgument, null);
                return;
            }
            if (schedule != null)
                schedule = Native.ScheduleValidate(schedule);
            if (retention != null)
                Native.RetentionValidate(retention, schedule);

            using (AgentHandle agent = Native.AgentOpen(null))
            {
                int state;
                using (PolicyHandle policy = Native.PolicyCommit(agent, specs))
                {
                    state = Native.PolicyState(policy);
                }
                Native.PolicySetProtection(agent, schedule, retention);
                if (state != (int)Policy.PolicyState)
                    Native.PolicySetState(agent, (int)Policy.PolicyState);
                WriteObject(PolicyMapping.Committed(agent, withProtection: true));
            }
        }
    }
}
