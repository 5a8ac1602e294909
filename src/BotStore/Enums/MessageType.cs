namespace BotStore.Enums;

/// <summary>The kind of content a message carries. Stored as SMALLINT; the seed's reference table.</summary>
[EnumDomain("message_type")]
public enum MessageType : short
{
    /// <summary>Plain text.</summary>
    [EnumValue("text", "Plain text")]
    Text = 0,

    /// <summary>Image attachment.</summary>
    [EnumValue("image", "Image attachment")]
    Image = 1,

    /// <summary>Audio file.</summary>
    [EnumValue("audio", "Audio file")]
    Audio = 2,

    /// <summary>Video file.</summary>
    [EnumValue("video", "Video file")]
    Video = 3,

    /// <summary>Document/PDF.</summary>
    [EnumValue("document", "Document/PDF")]
    Document = 4,

    /// <summary>GPS location.</summary>
    [EnumValue("location", "GPS location")]
    Location = 5,

    /// <summary>Contact card.</summary>
    [EnumValue("contact", "Contact card")]
    Contact = 6,

    /// <summary>Sticker.</summary>
    [EnumValue("sticker", "Sticker")]
    Sticker = 7,

    /// <summary>Message reaction.</summary>
    [EnumValue("reaction", "Message reaction")]
    Reaction = 8,
}
