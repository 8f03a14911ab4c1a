using System.Management.Automation;

namespace OBAgent.Commands
{
    /// <summary>
    /// Set-OBRetentionPolicy: attach a retention policy to a policy object (new or from Get-OBPolicy).
    /// Nothing is committed until Set-OBPolicy, which checks it against the schedule (long-term
    /// times must be scheduled times). Returns the policy, so that
    /// "Set-OBRetentionPolicy ... | Set-OBSchedule ..." chains as in MSOnlineBackup scripts.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "OBRetentionPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(OBPolicy))]
    public sealed class SetOBRetentionPolicyCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBRetentionPolicy RetentionPolicy { get; set; }

        protected override void Execute()
        {
            if (!ShouldProcess(Policy.ToString(), "Set the retention policy to " + RetentionPolicy))
                return;
            Policy.RetentionPolicy = RetentionPolicy;
            WriteObject(Policy);
        }
    }
}
