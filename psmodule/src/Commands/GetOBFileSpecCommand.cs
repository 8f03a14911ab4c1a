using System.Management.Automation;

namespace OBAgent.Commands
{
    /// <summary>Get-OBFileSpec: the inclusions and exclusions of a policy, in the user's order.</summary>
    [Cmdlet(VerbsCommon.Get, "OBFileSpec")]
    [OutputType(typeof(OBFileSpec))]
    public sealed class GetOBFileSpecCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        protected override void Execute()
        {
            WriteObject(Policy.Specs, true);
        }
    }
}
