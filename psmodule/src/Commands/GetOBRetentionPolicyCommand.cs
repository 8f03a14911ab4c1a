using System.Management.Automation;

namespace OBAgent.Commands
{
    /// <summary>Get-OBRetentionPolicy: the retention policy of a policy object; nothing when it has none.</summary>
    [Cmdlet(VerbsCommon.Get, "OBRetentionPolicy")]
    [OutputType(typeof(OBRetentionPolicy))]
    public sealed class GetOBRetentionPolicyCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        protected override void Execute()
        {
            if (Policy.RetentionPolicy != null)
                WriteObject(Policy.RetentionPolicy);
        }
    }
}
