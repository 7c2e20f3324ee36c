"""``tapegrad.nn.data``: data sets, loaders and transforms.

>>> from tapegrad.nn.data import DataLoader, embedded, transforms as T
>>> train = embedded("train", transform=T.Compose([T.RandomHorizontalFlip(), T.ToTensor()]))
>>> images, labels = next(iter(DataLoader(train, batch_size=32, shuffle=True, seed=0)))
>>> images.shape
(32, 1, 28, 28)
"""

from . import transforms
from .dataloader import DataLoader, default_collate
from .dataset import ArrayImageDataset, Dataset, Subset, TensorDataset, random_split, split_indices
from .embedded import embedded, embedded_arrays
from .errors import DataError, DatasetNotFoundError
from .fashion_mnist import FashionMNIST
from .idx import read_idx, write_idx
from .image_folder import CorruptImageWarning, ImageFolder
from .sampler import DistributedSampler, Sampler

__all__ = [
    "ArrayImageDataset", "CorruptImageWarning", "DataError", "DataLoader", "Dataset", "DatasetNotFoundError",
    "FashionMNIST", "ImageFolder", "Subset", "TensorDataset", "default_collate", "embedded",
    "embedded_arrays", "random_split", "read_idx", "split_indices", "transforms", "write_idx",
    "DistributedSampler", "Sampler",
]
