using System.Management.Automation;

namespace OBAgent.Commands
{
    /// <summary>
    /// New-OBPagingContext: paging state for Get-OBRecoverableItem -ParentItem or -RecoveryPoint.
    /// Each call with the same context returns the next page (PageSize items, 100 unless set), then
    /// nothing once everything was returned.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "OBPagingContext")]
    [OutputType(typeof(OBPagingContext))]
    public sealed class NewOBPagingContextCommand : OBCmdletBase
    {
        protected override void Execute()
        {
            WriteObject(new OBPagingContext());
        }
    }
}
