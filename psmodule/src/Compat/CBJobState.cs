namespace Microsoft.Internal.CloudBackup.ObjectModel.OMCommon
{
    /// <summary>
    /// MARS's job state enum, for scripts that compare with it. OBJob.JobStatus.JobState is a string
    /// holding one of these member names, so PowerShell's -eq compares it equal to the member.
    /// </summary>
    public enum CBJobState
    {
        Unknown = 0,
        InProgress = 1,
        Completed = 2,
        CompletedWithWarning = 3,
        Failed = 4,
        Aborted = 5,
    }
}
